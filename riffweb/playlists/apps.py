from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "riffweb.playlists"
    verbose_name = "Playlists and where each listener stopped"
