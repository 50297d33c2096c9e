"""The one way riffweb hands work to the django-q2 cluster.

Everything that enqueues calls a function here; the broker calls the entry points in
`riffweb/upstream/tasks.py` and `riffweb/studio/tasks.py`, which hold nothing else. A broker
that is down never loses work: the row stays in its waiting state and the pump's reconciler
sends it (a request, an upload) or ends it with a message (a link fetch).

A task enqueued while serving a web request carries that request's id in its django-q2
package, and the worker's log lines for it show the id (riffweb/logs.py, connected to
django-q2's pre_enqueue and pre_execute signals in riffweb/upstream/apps.py); task names and
entry points stay as they are.

Tests that run the steps themselves patch `enqueue` here, the only function that puts work
on the broker.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.tasks import async_task

from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

PUMP = "riffweb.upstream.tasks.pump"
SUBMIT = "riffweb.upstream.tasks.submit_transform"
SEND_UPLOAD = "riffweb.upstream.tasks.send_upload"
DRAIN = "riffweb.upstream.tasks.drain_downloads"
FETCH_LINK = "riffweb.studio.tasks.fetch_upload"
WRITE_LYRICS = "riffweb.upstream.tasks.write_lyrics"
FETCH_SONG_FILE = "riffweb.studio.tasks.fetch_song_file"
RENDER_ARRANGEMENT = "riffweb.studio.tasks.render_arrangement"
EMPTY_TRASH = "riffweb.library.tasks.empty_trash"
MAIL_MENTION = "riffweb.review.tasks.mail_mention"
MAIL_DIGESTS = "riffweb.review.tasks.mail_digests"
BACKED_UP = 20  # queued tasks
PUMP_SCHEDULE = "riffweb-upstream-pump"
DIGEST_SCHEDULE = "riffweb.review: daily e-mail digests"
TRASH_SCHEDULE = "riffweb.library: empty the trash"


def enqueue(func: str, *args, name: str = "") -> bool:
    """Put one task on the broker; False (logged) when the broker refused it."""
    try:
        async_task(func, *args, task_name=name or f"{func.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:12]}")
    except Exception:
        log.exception("could not enqueue %s%s", func, args)
        return False
    return True


PUMP_ON_ITS_WAY = timedelta(seconds=10)  # after that, a pump lost on its way is replaced


def kick_pump() -> None:
    """Start the tracking chain unless a pump holds the lease or is already on its way."""
    if UpstreamState.reserve_pump(PUMP_ON_ITS_WAY):
        enqueue(PUMP)


def pump_successor() -> None:
    """A pump hands over to the next one when its time is up (see tracker.run_pump); the
    successor is on its way, so kicks meanwhile add no other."""
    UpstreamState.reserve_pump(PUMP_ON_ITS_WAY)
    enqueue(PUMP)


def backed_up() -> bool:
    """More tasks wait in the broker than a moment's work: a task enqueued now waits a while."""
    try:
        return get_broker().queue_size() > BACKED_UP
    except Exception:  # a broker that cannot say is treated as not backed up
        log.exception("could not read the queue's length")
        return False


def submit_request(transform_id: int) -> None:
    """Send a stored request upstream; on failure the reconciler sends it (it stays QUEUED)."""
    if enqueue(SUBMIT, transform_id, name=f"submit-{transform_id}-{uuid.uuid4().hex[:8]}"):
        kick_pump()


def send_upload(upload_id: int) -> None:
    """Send a stored upload upstream; on failure the reconciler sends it."""
    if enqueue(SEND_UPLOAD, upload_id, name=f"upload-{upload_id}-{uuid.uuid4().hex[:8]}"):
        kick_pump()


def fetch_link(upload_id: int) -> bool:
    """Fetch an upload given as a link; False when the broker refused (the caller ends it)."""
    return enqueue(FETCH_LINK, upload_id, name=f"fetch-upload-{upload_id}")


def write_lyrics(draft_id: int) -> None:
    """Ask the music service for a lyrics draft; a lost task ends the draft when it goes stale."""
    enqueue(WRITE_LYRICS, draft_id, name=f"lyrics-{draft_id}-{uuid.uuid4().hex[:8]}")


def fetch_song_file(file_id: int) -> None:
    """Fetch a song's WAV or stems; if the broker refused, asking again re-sends it."""
    enqueue(FETCH_SONG_FILE, file_id, name=f"song-file-{file_id}-{uuid.uuid4().hex[:8]}")


def mail_mention(notification_id: int) -> None:
    """E-mail one mention at once; the task claims it, so a second delivery sends nothing."""
    enqueue(MAIL_MENTION, notification_id, name=f"mail-mention-{notification_id}")


def render_arrangement(transform_id: int) -> None:
    """Mix an arrangement into its song; if the broker refused, the reconciler sends it again."""
    enqueue(RENDER_ARRANGEMENT, transform_id, name=f"render-{transform_id}-{uuid.uuid4().hex[:8]}")


DRAIN_ON_ITS_WAY = timedelta(seconds=10)  # after that, a drain lost on its way is replaced


def drain_downloads() -> None:
    """Ask another worker to help with a burst of finished songs, unless a drain is already
    waiting for a worker (one more would only wait behind it, and ahead of the pump's successor)."""
    if UpstreamState.reserve_drain(DRAIN_ON_ITS_WAY):
        enqueue(DRAIN)


def ensure_schedules(**kwargs) -> None:
    """Create or repair riffweb's django-q2 schedules (idempotent; run after every migrate).

    The minute pump schedule re-kicks the tracking chain if a crash or a lossy broker broke
    it; the daily one empties the trash; the hourly one sends the e-mail digests that are due
    (each member's at most once a day).
    """
    Schedule.objects.update_or_create(
        name=PUMP_SCHEDULE,
        defaults={"func": PUMP, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    Schedule.objects.update_or_create(
        name=TRASH_SCHEDULE,
        defaults={"func": EMPTY_TRASH, "schedule_type": Schedule.DAILY},
    )
    Schedule.objects.update_or_create(
        name=DIGEST_SCHEDULE,
        defaults={"func": MAIL_DIGESTS, "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
