import logging

from django.apps import AppConfig
from django.core.checks import register
from django.db.models.signals import post_migrate

log = logging.getLogger(__name__)


def _ensure_schedules(sender, **kwargs):
    # Imported when called: riffweb.queue needs django-q2's models, which the app registry
    # has not loaded while this module is imported.
    from riffweb import queue

    queue.ensure_schedules()


def _kick_on_spawn(sender, **kwargs):
    """A (re)started cluster restarts the tracking chain at once, not at the next schedule tick."""
    from riffweb import queue

    try:
        queue.kick_pump()
    except Exception:  # never stop a worker from starting; the minute schedule kicks too
        log.exception("could not kick the upstream pump")


class UpstreamConfig(AppConfig):
    name = "riffweb.upstream"
    verbose_name = "Upstream"

    def ready(self):
        # The schedules (the pump's, the trash's) exist after every migrate.
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="riffweb-schedules")
        # Imported here: django-q2's signals and keycheck need the app registry to be ready.
        from django_q.signals import post_spawn, pre_enqueue, pre_execute

        from riffweb import logs
        from riffweb.upstream import checks, keycheck

        register(checks.reply_url_fits)
        register(checks.max_jobs_in_range)
        post_spawn.connect(_kick_on_spawn, dispatch_uid="riffweb-upstream-kick")
        post_spawn.connect(keycheck.record_worker_key, dispatch_uid="riffweb-upstream-keycheck")
        # A task's log lines in the worker carry the id of the request that enqueued it.
        pre_enqueue.connect(logs.stamp_task, dispatch_uid="riffweb-request-id-stamp")
        pre_execute.connect(logs.adopt_task, dispatch_uid="riffweb-request-id-adopt")
