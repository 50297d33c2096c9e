from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "riffweb.studio"
    verbose_name = "Studio"
