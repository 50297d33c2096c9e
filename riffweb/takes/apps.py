from django.apps import AppConfig


class TakesConfig(AppConfig):
    name = "riffweb.takes"
    verbose_name = "Takes: votes and the shortlist"
