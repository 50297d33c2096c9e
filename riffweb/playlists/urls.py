from django.urls import path

from riffweb.playlists import views

app_name = "playlists"
urlpatterns = [
    path("projects/<int:pk>/playlists/", views.playlist_list, name="playlist_list"),
    path("projects/<int:pk>/playlists/new/", views.playlist_create, name="playlist_create"),
    path("playlists/<int:pk>/", views.playlist_detail, name="playlist_detail"),
    path("playlists/<int:pk>/delete/", views.playlist_delete, name="playlist_delete"),
    path("playlists/add/", views.playlist_add, name="playlist_add"),
    path("playlists/<int:pk>/entries/<int:entry_pk>/remove/", views.playlist_remove, name="playlist_remove"),
    path("playlists/<int:pk>/order/", views.playlist_order, name="playlist_order"),
    path("playlists/<int:pk>/download/", views.playlist_download, name="playlist_download"),
    path("playlists/<int:pk>/position/", views.playlist_position, name="playlist_position"),
    path("playlists/<int:pk>/guest-links/", views.playlist_link_create, name="playlist_link_create"),
    path("playlist-links/<int:pk>/revoke/", views.playlist_link_revoke, name="playlist_link_revoke"),
    path("songs/<int:pk>/position/", views.song_position, name="song_position"),
    path("listen/playlist/<str:token>/", views.guest_playlist, name="guest_playlist"),
    path("listen/playlist/<str:token>/songs/<int:song_pk>/audio/", views.guest_playlist_audio,
         name="guest_playlist_audio"),
]
