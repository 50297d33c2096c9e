"""django-q2 entry points. Each takes primary keys and is safe to run twice.

- enqueue_transform(pk): called by the studio on commit; sends the request and kicks the pump.
- submit_transform(pk): one create call, claimed by a conditional UPDATE (see submit.py).
- pump(): the tracking chain (see tracker.py); enqueues its own successor.
- download_song(pk): one download (the pump normally does these in its thread pool).
- enqueue_upload(pk): sends a musician's upload upstream (see uploads.py).

The minute schedule "riffweb-upstream-pump" (created by ensure_schedule on post_migrate and
by `manage.py upstream_setup`) re-kicks the chain if a crash or a lossy broker broke it.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from riffweb.upstream import submit, tracker

log = logging.getLogger(__name__)

PUMP = "riffweb.upstream.tasks.pump"
SCHEDULE_NAME = "riffweb-upstream-pump"


def _async(func: str, *args, **kwargs) -> None:
    from django_q.tasks import async_task

    async_task(func, *args, **kwargs)


def enqueue_transform(transform_id: int) -> None:
    """Hand a stored request to the worker cluster; the reconciler covers a lost task."""
    try:
        _async("riffweb.upstream.tasks.submit_transform", transform_id, task_name=f"submit-{transform_id}")
        kick()
    except Exception:  # the broker is down: the row stays QUEUED and the reconciler sends it
        log.exception("could not enqueue transform %s; the reconciler will", transform_id)


def submit_transform(transform_id: int) -> str:
    result = submit.submit_transform(transform_id)
    kick()
    return result


def download_song(song_id: int) -> str:
    return tracker.download_song(song_id)


def drain_downloads() -> str:
    return f"{tracker.drain_downloads()} downloads"


def pump() -> str:
    """Track in-flight songs for a while, then hand over to a successor."""
    if not tracker.run_pump():
        return "another pump is running"
    _async(PUMP, task_name=f"pump-{timezone.now():%H%M%S%f}")
    return "handed over"


def kick() -> None:
    """Start the pump chain unless it is running."""
    if not tracker.pump_is_live():
        _async(PUMP, task_name=f"pump-{timezone.now():%H%M%S%f}")


def enqueue_upload(upload_id: int) -> None:
    try:
        _async("riffweb.upstream.tasks.send_upload", upload_id, task_name=f"upload-{upload_id}")
        kick()
    except Exception:
        log.exception("could not enqueue upload %s; the reconciler will", upload_id)


def send_upload(upload_id: int) -> str:
    from riffweb.upstream import uploads

    return uploads.send_upload(upload_id)


def ensure_schedule(**kwargs) -> None:
    """Create or repair the minute schedule that re-kicks the pump chain (idempotent)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": PUMP, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
