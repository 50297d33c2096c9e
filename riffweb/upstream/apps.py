from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    name = "riffweb.upstream"
    verbose_name = "Upstream"
