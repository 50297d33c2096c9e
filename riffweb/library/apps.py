from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "riffweb.library"
    verbose_name = "Song library"
