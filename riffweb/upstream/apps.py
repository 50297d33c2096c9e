from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedule(sender, **kwargs):
    from riffweb.upstream.tasks import ensure_schedule

    ensure_schedule()


class UpstreamConfig(AppConfig):
    name = "riffweb.upstream"
    verbose_name = "Upstream"

    def ready(self):
        # The minute schedule that re-kicks the tracking chain exists after every migrate.
        post_migrate.connect(_ensure_schedule, sender=self, dispatch_uid="riffweb-upstream-schedule")
