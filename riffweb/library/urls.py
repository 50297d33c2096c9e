from django.urls import path

from riffweb.library import views

app_name = "library"
urlpatterns = [
    path("library/", views.song_list, name="song_list"),
    path("library/bulk/", views.bulk, name="bulk"),
    path("library/download/", views.download_zip, name="download_zip"),
    path("library/trash/", views.trash, name="trash"),
    path("songs/<int:pk>/edit/", views.song_edit, name="song_edit"),
    path("songs/<int:pk>/rename/", views.song_rename, name="song_rename"),
    path("songs/<int:pk>/labels/", views.song_labels, name="song_labels"),
    path("songs/<int:pk>/favourite/", views.song_favourite, name="song_favourite"),
    path("songs/<int:pk>/move/", views.song_move, name="song_move"),
    path("songs/<int:pk>/trash/", views.song_trash, name="song_trash"),
    path("songs/<int:pk>/restore/", views.song_restore, name="song_restore"),
]
