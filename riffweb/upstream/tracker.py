"""Tracking every in-flight song until its audio is in our storage.

One *pump* runs at a time across all clusters (a lease on the UpstreamState row). It is a
short django-q2 task that loops for RIFFWEB_PUMP_SECONDS and then enqueues its successor, so
the tracking chain never waits for the scheduler's ~30 s tick and never holds more than one
worker, however many songs are in flight. Each loop it:

- polls the songs whose next poll is due, *all together*: dialect A's feed takes many ids per
  call (songs due soon ride along, so calls stay few); dialect B is asked per job;
- hands finished tracks to a small thread pool that downloads, checks and stores the audio;
- every few seconds reconciles: re-drives requests whose submit task was lost, ends claims
  whose lease expired, and times out songs past the deadline.

Every state lives in Song/Transform rows (next_poll_at, poll_interval, lease_until,
download_attempts, ...), so a killed pump loses nothing: the next one, started by its
predecessor's successor, the minute schedule or a new request, carries on.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from riffweb import audio, queue
from riffweb.studio.models import Song, Transform
from riffweb.upstream import client as upstream
from riffweb.upstream import uploads
from riffweb.upstream.fetch import FetchError, fetch_to_file, host_is_local
from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

PUMP_LEASE = timedelta(seconds=6)  # renewed every RENEW_EVERY; a dead pump's lapses fast
RENEW_EVERY = 1.5
LOOP_SLEEP = 0.2
RECONCILE_EVERY = 3.0
DOWNLOAD_LEASE = timedelta(seconds=90)
MAX_DOWNLOAD_ATTEMPTS = 5
MAX_CALLS_PER_LOOP = 20
QUEUED_GRACE = timedelta(seconds=10)
NEAR_DONE = 95  # percent
NEAR_DONE_INTERVAL = 1.2  # seconds between polls once a track is this close
DRAIN_SECONDS = 12.0
DRAIN_KICK_EVERY = 3.0  # a submit task should have run by then

FAILED_RENDER = "The music service could not make this song."
TIMED_OUT = "The music service took too long with this song. Retry to send it again."
NOT_SAVED = "We could not save this song's audio. Retry to make it again."


# --- applying what the upstream said ------------------------------------------------------


def next_interval(old_progress: int, new_progress: int, since: float, old_interval: float) -> float:
    """Seconds to the next poll: sooner as the track nears 100, backing off while it stalls."""
    low, high = settings.RIFFWEB_POLL_MIN, settings.RIFFWEB_POLL_MAX
    if new_progress > old_progress and since > 0:
        rate = (new_progress - old_progress) / since  # percent per second
        interval = 0.5 * (100 - new_progress) / rate  # halfway to the estimated finish
    else:
        interval = old_interval * 1.6
    if new_progress >= NEAR_DONE:
        # About to finish (or finishing late): the audio is what the musician waits for.
        high = min(high, max(low, NEAR_DONE_INTERVAL))
    return max(low, min(high, interval)) * random.uniform(0.85, 1.15)


def _estimate(song: Song, now) -> int:
    """CONTRACT §4.5: without `process`, estimate progress from the time elapsed."""
    started = song.transform.submitted_at or song.created_at
    elapsed = (now - started).total_seconds()
    return int(min(95, 100 * elapsed / settings.RIFFWEB_UPSTREAM_EXPECTED_SECONDS))


def apply_track(
    song: Song, track: upstream.Track, now, via_callback: bool = False, batch: list | None = None
) -> str:
    """Move one song forward from a track report; idempotent and never backwards.

    With `batch`, a still-running song's new cadence is set on the object and appended for one
    bulk_update instead of being written here (the pump is the only writer of running songs'
    cadence in dialect A, so no status guard is lost).
    """
    if song.status not in (Song.Status.PENDING, Song.Status.RUNNING):
        return "ignored"  # finished or downloading: a late or repeated report changes nothing
    live = Song.objects.filter(pk=song.pk, status__in=[Song.Status.PENDING, Song.Status.RUNNING])
    if track.state == "done" and track.audio_url:
        fields = dict(
            status=Song.Status.DOWNLOADING,
            progress=100,
            upstream_audio_url=urljoin(settings.RIFFWEB_UPSTREAM_URL + "/", track.audio_url)[:1000],
            upstream_done_at=now,
            next_poll_at=None,
            lease_until=None,
            polls=F("polls") + (0 if via_callback else 1),
        )
        if not song.title and track.title:
            fields["title"] = track.title[:200]
        if not song.lyrics and track.lyrics and track.lyrics != "[Instrumental]":
            fields["lyrics"] = track.lyrics
        return "done" if live.update(**fields) else "ignored"
    if track.state == "failed":
        reason = f"{FAILED_RENDER} ({track.error})" if track.error else FAILED_RENDER
        updated = live.update(
            status=Song.Status.FAILED,
            error=reason[:500],
            error_detail=json.dumps(track.raw)[:20000],
            finished_at=now,
            next_poll_at=None,
        )
        return "failed" if updated else "ignored"
    progress = track.progress if track.progress is not None else _estimate(song, now)
    progress = max(song.progress, min(99, progress))
    if via_callback:
        # The upstream is talking to us: polling is only the safety net.
        safety = timedelta(seconds=settings.RIFFWEB_CALLBACK_SAFETY_POLL)
        fresh = song.next_poll_at and song.next_poll_at > now + safety / 2
        if song.status == Song.Status.RUNNING and progress == song.progress and fresh:
            return "running"  # nothing new: no write
        live.filter(progress__lte=progress).update(
            status=Song.Status.RUNNING, progress=progress, last_progress_at=now, next_poll_at=now + safety
        )
        return "running"
    since = (now - (song.last_progress_at or now)).total_seconds()
    if via_callback_expected():
        interval = settings.RIFFWEB_CALLBACK_SAFETY_POLL
    else:
        interval = next_interval(song.progress, progress, since, song.poll_interval)
    if batch is not None and song.status == Song.Status.RUNNING:
        if progress > song.progress:
            song.last_progress_at = now
        song.progress, song.poll_interval = progress, interval
        song.next_poll_at = now + timedelta(seconds=interval)
        song.polls += 1
        batch.append(song)
        return "running"
    fields = dict(
        status=Song.Status.RUNNING,
        progress=progress,
        poll_interval=interval,
        next_poll_at=now + timedelta(seconds=interval),
        polls=F("polls") + 1,
    )
    if progress > song.progress:
        fields["last_progress_at"] = now
    live.update(**fields)
    return "running"


CADENCE_FIELDS = ["progress", "poll_interval", "next_poll_at", "polls", "last_progress_at"]


def via_callback_expected() -> bool:
    from riffweb.upstream.submit import callbacks_enabled

    return callbacks_enabled()


def apply_job_tracks(transform: Transform, tracks: list[upstream.Track], now, via_callback=False) -> None:
    """Dialect B: match a job's song objects to our variants (by id, else first free variant)."""
    songs = list(Song.objects.select_related("transform").filter(transform=transform).order_by("variant"))
    known = {s.upstream_id: s for s in songs if s.upstream_id}
    if all(t.id in known for t in tracks):  # the usual case: no lock needed to match
        for track in tracks:
            apply_track(known[track.id], track, now, via_callback=via_callback)
        return
    with transaction.atomic():
        songs = list(
            Song.objects.select_for_update().select_related("transform").filter(transform=transform).order_by("variant")
        )
        by_id = {s.upstream_id: s for s in songs if s.upstream_id}
        free = [s for s in songs if not s.upstream_id]
        pairs = []
        for track in tracks:
            song = by_id.get(track.id)
            if song is None and free:
                song = free.pop(0)
                Song.objects.filter(pk=song.pk, upstream_id="").update(upstream_id=track.id[:200])
                song.upstream_id = track.id
                by_id[track.id] = song
            if song is not None:
                pairs.append((song, track))
    for song, track in pairs:
        apply_track(song, track, now, via_callback=via_callback)


# --- polling ----------------------------------------------------------------------------


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _due_songs(now, limit: int) -> list[Song]:
    """Due songs plus those due soon (within half their interval): they share the calls."""
    due = Song.objects.filter(status=Song.Status.RUNNING, next_poll_at__lte=now)
    if not due.exists():
        return []
    window = now + timedelta(seconds=settings.RIFFWEB_POLL_MAX / 2)
    candidates = (
        Song.objects.select_related("transform")
        .filter(status=Song.Status.RUNNING, next_poll_at__lte=window)
        .order_by("next_poll_at")[:limit]
    )
    return [s for s in candidates if s.next_poll_at <= now + timedelta(seconds=0.5 * s.poll_interval)]


def _back_off(songs: list[Song], now, factor: float = 2.0) -> None:
    for song in songs:
        interval = min(settings.RIFFWEB_POLL_MAX * 3, max(song.poll_interval * factor, 5.0)) * random.uniform(0.8, 1.2)
        Song.objects.filter(pk=song.pk, status=Song.Status.RUNNING).update(
            next_poll_at=now + timedelta(seconds=interval), poll_interval=interval
        )


def _note_failure(exc: upstream.UpstreamError) -> None:
    log.warning("upstream status call failed: %s", exc)
    UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).update(last_error_detail=exc.detail[:20000])
    if isinstance(exc, upstream.UpstreamAuthError):
        UpstreamState.needs_attention(str(exc), exc.detail)
    if isinstance(exc, upstream.UpstreamBusy):
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).update(
            busy_until=timezone.now() + timedelta(seconds=exc.retry_after)
        )


def poll_due(client: upstream.Client, state: UpstreamState) -> int:
    """Poll every due song in as few calls as possible; returns the number of calls made."""
    now = timezone.now()
    if state.busy_until and state.busy_until > now:
        return 0
    chunk = state.feed_chunk or settings.RIFFWEB_UPSTREAM_FEED_CHUNK
    songs = _due_songs(now, chunk * MAX_CALLS_PER_LOOP)
    if not songs:
        return 0
    if client.dialect == upstream.RIFFUSION:
        return _poll_feed(client, songs, chunk, now, state)
    return _poll_jobs(client, songs, now)


def _poll_feed(client, songs: list[Song], chunk: int, now, state) -> int:
    calls = 0
    pending = [s for s in songs if s.upstream_id]
    queue = list(_chunks(pending, chunk))
    while queue and calls < MAX_CALLS_PER_LOOP * 2:
        batch = queue.pop(0)
        calls += 1
        try:
            tracks = client.feed([s.upstream_id for s in batch])
        except upstream.UpstreamInvalid as exc:
            if len(batch) > 2:  # the upstream refuses long lists: fall back to pairs for good
                log.warning("feed refused %d ids; falling back to pairs", len(batch))
                UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).update(feed_chunk=2)
                state.feed_chunk = 2
                queue = list(_chunks(batch, 2)) + [p for rest in queue for p in _chunks(rest, 2)]
                continue
            _note_failure(exc)
            _back_off(batch, now)
            continue
        except upstream.UpstreamBusy as exc:
            _note_failure(exc)
            return calls
        except upstream.UpstreamError as exc:
            _note_failure(exc)
            _back_off(batch, now)
            continue
        UpstreamState.call_succeeded()
        seen = timezone.now()
        still_running: list[Song] = []
        for song in batch:
            track = tracks.get(song.upstream_id)
            if track is None:  # not (yet) known upstream: treat as no progress
                track = upstream.Track(id=song.upstream_id, state="running", progress=None)
                track.progress = song.progress
            apply_track(song, track, seen, batch=still_running)
        if still_running:  # one statement for the whole chunk, not one per song
            Song.objects.bulk_update(still_running, CADENCE_FIELDS)
    return calls


def _poll_jobs(client, songs: list[Song], now) -> int:
    calls = 0
    transforms = {}
    for song in songs:
        transforms.setdefault(song.transform_id, (song.transform, []))[1].append(song)
    for transform, members in transforms.values():
        for job_id in transform.upstream_ids or []:
            calls += 1
            try:
                tracks = client.job(str(job_id))
            except upstream.UpstreamBusy as exc:
                _note_failure(exc)
                return calls
            except upstream.UpstreamError as exc:
                _note_failure(exc)
                _back_off(members, now)
                continue
            UpstreamState.call_succeeded()
            seen = timezone.now()
            apply_job_tracks(transform, tracks, seen)
            reported = {t.id for t in tracks}
            for song in members:  # no news of it in its job: no progress
                if song.upstream_id not in reported:
                    fresh = Song.objects.select_related("transform").get(pk=song.pk)
                    if fresh.upstream_id not in reported:
                        apply_track(fresh, upstream.Track(id="", state="running", progress=fresh.progress), seen)
    return calls


# --- downloading --------------------------------------------------------------------------


@cache
def upstream_is_local() -> bool:
    return host_is_local(urlsplit(settings.RIFFWEB_UPSTREAM_URL).hostname or "")


def download_song(song_id: int) -> str:
    """Copy a finished track into our storage: claimed, fetched safely, checked, renamed."""
    started = time.monotonic()
    now = timezone.now()
    claimed = (
        Song.objects.filter(pk=song_id, status=Song.Status.DOWNLOADING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + DOWNLOAD_LEASE, download_attempts=F("download_attempts") + 1)
    )
    if not claimed:
        return "not due"
    song = Song.objects.get(pk=song_id)
    tmp_dir = Path(settings.MEDIA_ROOT) / "tmp"
    tmp = tmp_dir / f"{song.pk}-{uuid.uuid4().hex}.audio"
    t0 = time.monotonic()
    try:
        fetch_to_file(
            song.upstream_audio_url,
            tmp,
            max_bytes=settings.RIFFWEB_AUDIO_MAX_BYTES,
            deadline=settings.RIFFWEB_DOWNLOAD_DEADLINE,
            allow_private=upstream_is_local(),
        )
        t1 = time.monotonic()
        checked = audio.check(tmp, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
        t2 = time.monotonic()
    except (FetchError, audio.AudioError) as exc:
        tmp.unlink(missing_ok=True)
        return _download_failed(song, str(exc))
    ext = checked.format
    name = f"songs/{now:%Y/%m}/{song.pk}-{uuid.uuid4().hex[:10]}.{ext}"
    final = Path(default_storage.path(name))
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    stored = Song.objects.filter(pk=song.pk, status=Song.Status.DOWNLOADING).update(
        status=Song.Status.DONE,
        audio=name,
        audio_format=ext,
        duration=round(checked.duration, 3),
        peaks=checked.peaks,
        progress=100,
        finished_at=timezone.now(),
        lease_until=None,
        next_poll_at=None,
        error="",
        error_detail="",
    )
    if not stored:
        final.unlink(missing_ok=True)
        return "lost claim"
    log.info(
        "song %s stored: %.2fs after the upstream finished; claim %.2fs fetch %.2fs decode %.2fs store %.2fs",
        song.pk, (timezone.now() - song.upstream_done_at).total_seconds() if song.upstream_done_at else -1,
        t0 - started, t1 - t0, t2 - t1, time.monotonic() - t2,
    )
    return "done"


def _download_failed(song: Song, reason: str) -> str:
    attempts = song.download_attempts
    log.warning("song %s: download attempt %s failed: %s", song.pk, attempts, reason)
    live = Song.objects.filter(pk=song.pk, status=Song.Status.DOWNLOADING)
    if attempts >= MAX_DOWNLOAD_ATTEMPTS:
        live.update(
            status=Song.Status.FAILED, error=NOT_SAVED, error_detail=reason, finished_at=timezone.now(),
            lease_until=None,
        )
        return "failed"
    delay = min(60.0, 2.0**attempts) * random.uniform(0.8, 1.2)
    live.update(lease_until=None, next_poll_at=timezone.now() + timedelta(seconds=delay), error_detail=reason)
    return "retry"


def downloads_due(now, limit: int, busy: set[int]) -> list[int]:
    ids = (
        Song.objects.filter(status=Song.Status.DOWNLOADING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .exclude(pk__in=busy)
        .order_by("upstream_done_at")
        .values_list("pk", flat=True)[:limit]
    )
    return list(ids)


# --- reconciling --------------------------------------------------------------------------


def reconcile(now=None) -> list[int]:
    """Repair what a crash or a lost task left behind; returns transforms to submit now."""
    from riffweb.upstream.submit import UNKNOWN_MESSAGE

    now = now or timezone.now()
    # A submit claim whose worker died: the create may or may not have been sent.
    for transform in Transform.objects.filter(status=Transform.Status.SUBMITTING, lease_until__lt=now):
        if Transform.objects.filter(pk=transform.pk, status=Transform.Status.SUBMITTING, lease_until__lt=now).update(
            status=Transform.Status.UNKNOWN, lease_until=None, error=UNKNOWN_MESSAGE,
            error_detail="the submitting worker stopped before recording an answer",
        ):
            transform.songs.exclude(status__in=Song.FINISHED).update(
                status=Song.Status.FAILED, error=UNKNOWN_MESSAGE, finished_at=now, next_poll_at=None
            )
    # Songs whose request failed but which were left behind.
    Song.objects.filter(
        status=Song.Status.PENDING,
        transform__status__in=[Transform.Status.FAILED, Transform.Status.UNKNOWN],
    ).update(status=Song.Status.FAILED, error=FAILED_RENDER, finished_at=now)
    # The deadline.
    cutoff = now - timedelta(seconds=settings.RIFFWEB_UPSTREAM_DEADLINE)
    Song.objects.filter(status=Song.Status.RUNNING, transform__submitted_at__lt=cutoff).update(
        status=Song.Status.TIMED_OUT, error=TIMED_OUT, finished_at=now, next_poll_at=None
    )
    Song.objects.filter(status=Song.Status.RUNNING, next_poll_at__isnull=True).update(next_poll_at=now)
    # A download that keeps crashing its worker (a poison task) ends instead of looping.
    Song.objects.filter(
        status=Song.Status.DOWNLOADING, download_attempts__gte=MAX_DOWNLOAD_ATTEMPTS, lease_until__lt=now
    ).update(status=Song.Status.FAILED, error=NOT_SAVED, finished_at=now, lease_until=None,
             error_detail="the download crashed its worker on every attempt")
    # Requests whose submit task never ran (lost by the broker) or whose retry time came.
    due = Transform.objects.filter(status=Transform.Status.QUEUED).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=now - QUEUED_GRACE)
    )
    return list(due.order_by("created_at").values_list("pk", flat=True)[:100])


# --- the pump -------------------------------------------------------------------------------


def _claim_pump(owner: str, now) -> bool:
    UpstreamState.ensure()
    return bool(
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON)
        .filter(Q(pump_lease_until__isnull=True) | Q(pump_lease_until__lt=now) | Q(pump_owner=owner))
        .update(pump_owner=owner, pump_lease_until=now + PUMP_LEASE, heartbeat_at=now)
    )


def _in_thread(func, pk):
    try:
        return func(pk)
    except Exception:
        log.exception("%s(%s) failed", func.__name__, pk)
        return "error"
    finally:
        connections.close_all()


class _Claims:
    """Songs some download thread of this process has taken, so its threads never race."""

    def __init__(self):
        self.lock = threading.Lock()
        self.busy: set[int] = set()

    def take(self) -> int | None:
        with self.lock:
            due = downloads_due(timezone.now(), 1, self.busy)
            if not due:
                return None
            self.busy.add(due[0])
            return due[0]

    def release(self, pk: int) -> None:
        with self.lock:
            self.busy.discard(pk)


def _download_loop(claims: _Claims, until: float) -> int:
    """Download due songs one after another until none is left or `until` passes.

    A thread that takes its next song as soon as it finishes one keeps every thread busy
    through a burst; waiting for the pump's next loop to refill it left threads idle for
    most of each loop while finished songs queued.
    """
    done = 0
    try:
        while time.monotonic() < until:
            pk = claims.take()
            if pk is None:
                break
            try:
                download_song(pk)
            except Exception:
                log.exception("download_song(%s) failed", pk)
            finally:
                claims.release(pk)
            done += 1
    finally:
        connections.close_all()
    return done


def drain_downloads(seconds: float = DRAIN_SECONDS, threads: int = 2, idle: float = 2.0) -> int:
    """Download finished songs in this worker until none has waited for `idle` seconds."""
    end = time.monotonic() + seconds
    quiet_since = time.monotonic()
    done = 0
    claims = _Claims()
    with ThreadPoolExecutor(threads, thread_name_prefix="drain") as pool:
        while time.monotonic() < end and time.monotonic() - quiet_since < idle:
            got = sum(f.result() for f in [pool.submit(_download_loop, claims, end) for _ in range(threads)])
            if got:
                done += got
                quiet_since = time.monotonic()
            else:
                time.sleep(0.1)
    connections.close_all()
    return done


def run_pump(seconds: float | None = None) -> bool:
    """Track for a while if no other pump is; returns True when this pump held the lease."""
    from riffweb.upstream.submit import submit_transform

    owner = uuid.uuid4().hex
    if not _claim_pump(owner, timezone.now()):
        return False
    seconds = settings.RIFFWEB_PUMP_SECONDS if seconds is None else seconds
    end = time.monotonic() + seconds
    threads = settings.RIFFWEB_DOWNLOAD_THREADS  # 0: everything inline (tests on one connection)
    client = upstream.configured()
    pool = ThreadPoolExecutor(threads + 2, thread_name_prefix="pump") if threads else None
    running: dict[tuple[str, int], object] = {}
    loops: list = []  # threads downloading one due song after another
    claims = _Claims()
    last_reconcile = last_renew = last_drain = 0.0
    held = True

    def start(func, pk, key):
        if key in running:
            return
        if pool is None:
            func(pk)
        else:
            running[key] = pool.submit(_in_thread, func, pk)

    try:
        while time.monotonic() < end:
            if pool is not None:
                close_old_connections()
            mono = time.monotonic()
            now = timezone.now()
            if mono - last_renew > RENEW_EVERY:
                if not _claim_pump(owner, now):
                    held = False
                    break
                last_renew = mono
            if mono - last_reconcile > RECONCILE_EVERY:
                last_reconcile = mono
                for pk in reconcile(now):
                    start(submit_transform, pk, ("submit", pk))
                to_send, to_poll = uploads.uploads_due(now)
                for pk in to_send:
                    start(uploads.send_upload, pk, ("upload", pk))
                for pk in to_poll:
                    start(uploads.poll_upload, pk, ("upload-status", pk))
            try:
                poll_due(client, UpstreamState.get())
            except Exception:  # a bug must not stop the chain; the rows stay the truth
                log.exception("polling failed")
            running = {pk: f for pk, f in running.items() if not f.done()}
            if pool is None:  # inline: one download per loop
                for pk in downloads_due(timezone.now(), 1, set()):
                    download_song(pk)
                time.sleep(LOOP_SLEEP)
                continue
            loops = [f for f in loops if not f.done()]
            room = threads - len(loops)
            with claims.lock:
                due = downloads_due(timezone.now(), room + 2 * threads, claims.busy)
            for _ in range(min(room, len(due))):
                loops.append(pool.submit(_download_loop, claims, end))
            if len(due) > room and mono - last_drain > DRAIN_KICK_EVERY:
                # More finished audio than this pump's threads can take: another worker helps.
                last_drain = mono
                queue.drain_downloads()
            time.sleep(LOOP_SLEEP)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if held:
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON, pump_owner=owner).update(
            pump_lease_until=None, heartbeat_at=timezone.now()
        )
    return held
