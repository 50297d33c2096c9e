from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "riffweb.teams"
    verbose_name = "Teams and sharing"
