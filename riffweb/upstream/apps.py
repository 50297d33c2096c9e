from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedule(sender, **kwargs):
    from riffweb.upstream.tasks import ensure_schedule

    ensure_schedule()


def _kick_on_spawn(sender, **kwargs):
    """A (re)started cluster restarts the tracking chain at once, not at the next schedule tick."""
    import logging

    from riffweb.upstream.tasks import kick

    try:
        kick()
    except Exception:  # never stop a worker from starting; the minute schedule kicks too
        logging.getLogger(__name__).exception("could not kick the upstream pump")


class UpstreamConfig(AppConfig):
    name = "riffweb.upstream"
    verbose_name = "Upstream"

    def ready(self):
        # The minute schedule that re-kicks the tracking chain exists after every migrate.
        post_migrate.connect(_ensure_schedule, sender=self, dispatch_uid="riffweb-upstream-schedule")
        from django_q.signals import post_spawn

        post_spawn.connect(_kick_on_spawn, dispatch_uid="riffweb-upstream-kick")
