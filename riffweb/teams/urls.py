from django.urls import path

from riffweb.teams import views

app_name = "teams"
urlpatterns = [
    path("projects/<int:pk>/members/", views.member_list, name="member_list"),
    path("projects/<int:pk>/members/invite/", views.member_invite, name="member_invite"),
    path("projects/<int:pk>/members/<int:member_pk>/role/", views.member_role, name="member_role"),
    path("projects/<int:pk>/members/<int:member_pk>/remove/", views.member_remove, name="member_remove"),
    path("projects/<int:pk>/leave/", views.member_leave, name="member_leave"),
    path("projects/<int:pk>/delete/", views.project_delete, name="project_delete"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<int:pk>/accept/", views.invitation_answer, {"answer": "accept"}, name="invitation_join"),
    path("invitations/<int:pk>/decline/", views.invitation_answer, {"answer": "decline"}, name="invitation_decline"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("songs/<int:pk>/sharing/", views.song_sharing, name="song_sharing"),
    path("songs/<int:pk>/guest-links/", views.guest_link_create, name="guest_link_create"),
    path("guest-links/<int:pk>/revoke/", views.guest_link_revoke, name="guest_link_revoke"),
    path("listen/<str:token>/", views.guest_song, name="guest_song"),
    path("listen/<str:token>/audio/", views.guest_audio, name="guest_audio"),
    path("listen/<str:token>/download/", views.guest_download, name="guest_download"),
    path("listen/<str:token>/lyrics.lrc", views.guest_lyrics, name="guest_lyrics"),
    path("listen/<str:token>/cover/", views.guest_cover, name="guest_cover"),
]
