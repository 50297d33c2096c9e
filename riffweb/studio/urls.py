from django.urls import path

from riffweb.studio import views

app_name = "studio"
urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/generate/", views.professional_create, name="professional_create"),
    path("songs/<int:pk>/", views.song_detail, name="song_detail"),
    path("songs/<int:pk>/status/", views.song_status, name="song_status"),
    path("songs/<int:pk>/audio/", views.song_audio, name="song_audio"),
    path("songs/<int:pk>/download/", views.song_download, name="song_download"),
]
