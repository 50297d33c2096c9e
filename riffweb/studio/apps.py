from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from riffweb.studio import search


def _repair_search(sender, using, **kwargs):
    search.repair(connections[using], sender.get_model("Song"))


class StudioConfig(AppConfig):
    name = "riffweb.studio"
    verbose_name = "Studio"

    def ready(self):
        post_migrate.connect(_repair_search, sender=self)
