from django.urls import path

from riffweb.studio import arranger_views, lyrics_views, mode_views, palette_views, views

app_name = "studio"
urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/generate/", mode_views.professional_create, name="professional_create"),
    path("projects/<int:pk>/generate/<str:mode>/", mode_views.generate, name="generate"),
    path("projects/<int:pk>/upload/", mode_views.upload_create, name="upload_create"),
    path("songs/status/", views.song_status, name="song_status"),
    path("songs/<int:pk>/", views.song_detail, name="song_detail"),
    path("songs/<int:pk>/audio/", views.song_audio, name="song_audio"),
    path("songs/<int:pk>/download/", views.song_download, name="song_download"),
    path("songs/<int:pk>/lyrics.lrc", lyrics_views.song_lyrics_lrc, name="song_lyrics_lrc"),
    path("projects/<int:pk>/lyrics-drafts/", lyrics_views.lyrics_draft_create, name="lyrics_draft_create"),
    path("lyrics-drafts/<int:pk>/", lyrics_views.lyrics_draft_status, name="lyrics_draft_status"),
    path("songs/<int:pk>/so-far/", views.song_partial, name="song_partial"),
    path("songs/<int:pk>/cover/", views.song_cover, name="song_cover"),
    path("songs/<int:pk>/retry/", views.song_retry, name="song_retry"),
    path("songs/<int:pk>/files/", views.song_files, name="song_files"),
    path("songs/<int:pk>/files/<str:kind>/", views.song_file, name="song_file"),
    path("songs/<int:pk>/files/<str:kind>/ask/", views.song_file_ask, name="song_file_ask"),
    path("songs/<int:pk>/transform/<str:mode>/", mode_views.song_transform, name="song_transform"),
    path("projects/<int:pk>/arrangements/", arranger_views.arrangement_create, name="arrangement_create"),
    path("arrangements/<int:pk>/", arranger_views.arrangement_detail, name="arrangement_detail"),
    path("arrangements/<int:pk>/regions/", arranger_views.region_add, name="region_add"),
    path("arrangements/<int:pk>/regions/<int:region_pk>/", arranger_views.region_change, name="region_change"),
    path("arrangements/<int:pk>/render/", arranger_views.arrangement_render, name="arrangement_render"),
    path("projects/<int:pk>/palettes/", palette_views.palette_create, name="palette_create"),
    path("palettes/<int:pk>/", palette_views.palette_detail, name="palette_detail"),
    path("palettes/<int:pk>/delete/", palette_views.palette_delete, name="palette_delete"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload_detail"),
    path("uploads/<int:pk>/audio/", views.upload_audio, name="upload_audio"),
    path("uploads/<int:pk>/transform/<str:mode>/", mode_views.upload_transform, name="upload_transform"),
]
