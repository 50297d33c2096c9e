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
import random
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from riffweb import artwork, audio, media, queue
from riffweb.studio.models import Failure, Song, Transform
from riffweb.upstream import client as upstream
from riffweb.upstream import uploads
from riffweb.upstream.fetch import FetchError, fetch_to_file, host_is_local
from riffweb.upstream.models import UpstreamState
from riffweb.upstream import dialects
from riffweb.upstream.dialects import callbacks_enabled
from riffweb.upstream.submit import first_poll, submit_transform

log = logging.getLogger(__name__)

PUMP_LEASE = timedelta(seconds=6)  # renewed every RENEW_EVERY; a dead pump's lapses fast
PUMP_LONGEST = 40.0  # seconds: well inside django-q2's task timeout (60 s)
EXTEND_BY = 3.0
RENEW_EVERY = 1.5
LOOP_SLEEP = 0.2
RECONCILE_EVERY = 3.0
DOWNLOAD_LEASE = timedelta(seconds=90)
MAX_DOWNLOAD_ATTEMPTS = 5
MAX_CALLS_PER_LOOP = 20
QUEUED_GRACE = timedelta(seconds=10)
NEAR_DONE = 95  # percent
NEAR_DONE_INTERVAL = 1.2  # seconds between polls once a track is this close
AIM_WITHIN = 8.0  # seconds: a render due to end this soon is asked about at its end (next_interval)
AIM_FROM = 50  # percent: not before the render's second half
AIM_SLACK = 0.1  # seconds after that end
MIN_SPAN = 5  # percent of progress, at the least, a render's pace is measured over
DRAIN_SECONDS = 6.0
DRAIN_KICK_EVERY = 3.0  # a submit task should have run by then
LINGER = 1.0  # seconds an idle download thread of the pump waits before it looks again

PARTIAL_DEADLINE = 20.0  # seconds for one preview copy; the next one is due soon anyway
COVER_DEADLINE = 10.0
CLAIM_SPREAD = 4
READY_FOR = 1.0  # seconds a download thread trusts the list of due songs it found
SIDE_THREADS = 2  # the pump's threads for requests to send, uploads, previews

PROBE_MAX = 5.0  # seconds between probes while the upstream is unreachable
FAILURES_FOR_OUTAGE = 4  # failed status calls in a row, whatever their ids, that mean an outage


# --- applying what the upstream said ------------------------------------------------------


def render_pace(song: Song, progress: int, now) -> float | None:
    """Seconds a percent of the render takes, from the answers since the first that showed
    progress; None until they span MIN_SPAN percent. Whole-percent progress hides up to a
    percent at either end of the span: this is the slowest pace those answers allow."""
    if song.first_progress_at is None:
        return None
    span = progress - song.first_progress
    seconds = (now - song.first_progress_at).total_seconds()
    if span < MIN_SPAN or seconds <= 0:
        return None
    return seconds / (span - 1)


def _aim(progress: int, pace: float | None) -> float | None:
    """Seconds to the latest end a render's answers allow, when its last poll is to be aimed
    there: in its second half (the polls before keep its card and preview moving) and due to
    end within AIM_WITHIN."""
    if pace is None or progress < AIM_FROM:
        return None
    latest = (100 - progress) * pace
    return latest if latest <= AIM_WITHIN else None


def next_interval(old_progress: int, new_progress: int, since: float, old_interval: float,
                  pace: float | None = None) -> float:
    """Seconds to the next poll: sooner as the track nears 100, backing off while it stalls.

    With the render's `pace` (render_pace), a render near its end (`_aim`) is asked about once,
    just after the latest end its answers allow (for a slow render, at most NEAR_DONE_INTERVAL
    after the earliest), instead of halfway there and then every NEAR_DONE_INTERVAL: the poll
    that finds it done comes sooner, and a render whose pace holds costs fewer polls. One not
    done by then is asked again by the same rules.
    """
    low, high = settings.RIFFWEB_POLL_MIN, settings.RIFFWEB_POLL_MAX
    latest = _aim(new_progress, pace)
    if new_progress > old_progress and latest is not None:
        return max(low, min(latest, latest - pace + NEAR_DONE_INTERVAL) + AIM_SLACK)
    if new_progress > old_progress and pace is not None:
        interval = 0.5 * (100 - new_progress) * pace  # halfway to the latest end
    elif new_progress > old_progress and since > 0:
        rate = (new_progress - old_progress) / since  # percent per second
        interval = 0.5 * (100 - new_progress) / rate  # halfway to the estimated finish
    else:
        interval = old_interval * 1.6
    if new_progress >= NEAR_DONE:
        # About to finish (or finishing late): the audio is what the musician waits for.
        high = min(high, max(low, NEAR_DONE_INTERVAL))
    return max(low, min(high, interval)) * random.uniform(0.85, 1.15)


def _aimed(song: Song) -> bool:
    """Whether the song's next poll is aimed at its render's end (asking earlier is wasted)."""
    if song.last_progress_at is None:
        return False
    return _aim(song.progress, render_pace(song, song.progress, song.last_progress_at)) is not None


def upstream_link(url: str) -> str:
    """A link from an answer, made absolute against the upstream (answers may give paths)."""
    return urljoin(settings.RIFFWEB_UPSTREAM_URL + "/", url)


def _estimate(song: Song, now) -> int:
    """API.md, progress: without `process`, estimate progress from the time elapsed."""
    started = song.submitted_at or song.created_at
    elapsed = (now - started).total_seconds()
    return int(min(95, 100 * elapsed / dialects.current().usual_seconds))


def apply_track(
    song: Song, track: upstream.Track, now, via_callback: bool = False, batch: list | None = None
) -> str:
    """Move one song forward from a track report; idempotent and never backwards.

    With `batch`, a still-running song's new cadence is set on the object and appended for one
    bulk_update instead of being written here (the pump is the only writer of running songs'
    cadence, so no status guard is lost).
    """
    if song.status not in (Song.Status.PENDING, Song.Status.RUNNING):
        return "ignored"  # finished or downloading: a late or repeated report changes nothing
    if track.state == "done" and track.audio_url:
        bpm, sections = upstream.song_music(track.raw, track.duration)
        done = song.record_done(
            upstream_link(track.audio_url), track.title, track.lyrics, now, counted=not via_callback,
            style=track.style, image_url=upstream_link(track.image_url) if track.image_url else "",
            timed_lyrics=upstream.timed_lyrics(track.raw, track.duration), bpm=bpm, sections=sections,
        )
        return "done" if done else "ignored"
    if track.state == "failed":
        failed = Song.objects.filter(pk=song.pk).live().fail(Failure.RENDER, json.dumps(track.raw), track.error)
        return "failed" if failed else "ignored"
    if track.preview_url:
        song.note_partial(upstream_link(track.preview_url))
    progress = track.progress if track.progress is not None else _estimate(song, now)
    progress = max(song.progress, min(99, progress))
    if via_callback:
        safety = settings.RIFFWEB_CALLBACK_SAFETY_POLL
        fresh = song.next_poll_at and song.next_poll_at > now + timedelta(seconds=safety / 2)
        if not (song.status == Song.Status.RUNNING and progress == song.progress and fresh):
            song.record_callback_progress(progress, safety, now)
        return "running"
    since = (now - (song.last_progress_at or now)).total_seconds()
    if callbacks_enabled():
        interval = settings.RIFFWEB_CALLBACK_SAFETY_POLL
    else:
        interval = next_interval(song.progress, progress, since, song.poll_interval, render_pace(song, progress, now))
    song.record_progress(progress, interval, now, dialects.current().usual_seconds)
    if batch is None:
        song.save_cadence()
    else:
        batch.append(song)
    return "running"


def apply_job(job_id: str, tracks: list[upstream.Track], now, via_callback=False,
              known: list[Song] = (), batch: list | None = None) -> int:
    """A job's report: match its tracks to the songs waiting on it, then move each forward;
    returns how many of them finished (their audio is to be stored now).

    `known` are songs of the job already loaded (the due ones); the database is asked only for
    a track none of them is. A track with no song of its own fills a song still without one, or
    becomes a further take; a job that ended with fewer tracks than songs ends the rest.
    """
    by_track = {s.upstream_id: s for s in known if s.upstream_id}
    if any(t.id not in by_track for t in tracks):
        by_track = _match_tracks(job_id, tracks, now)
    finished = 0
    for track in tracks:
        song = by_track.get(track.id)
        if song is not None:
            finished += apply_track(song, track, now, via_callback=via_callback, batch=batch) == "done"
    ended = tracks and all(t.state != "running" for t in tracks)
    matched = {s.pk for s in by_track.values()}
    waiting = [s for s in known if s.pk not in matched and not s.upstream_id and s.status == Song.Status.RUNNING]
    if ended and waiting:
        Song.objects.filter(pk__in=[s.pk for s in waiting], upstream_id="").live().fail(
            Failure.FEWER, f"job {job_id} ended with {len(tracks)} track(s)"
        )
    elif ended and via_callback:  # a hint: the next poll, not the callback, ends a song it left out
        Song.objects.filter(job_id=job_id, upstream_id="").poll_now(now)
    elif not via_callback:
        for song in waiting:  # its job is alive but has not shown this song yet: no progress
            apply_track(song, upstream.Track(id="", state="running", progress=song.progress), now, batch=batch)
    return finished


def _match_tracks(job_id: str, tracks: list[upstream.Track], now) -> dict[str, Song]:
    with transaction.atomic():
        songs = list(Song.objects.select_for_update().select_related("transform").filter(job_id=job_id)
                     .order_by("variant"))
        by_track = {s.upstream_id: s for s in songs if s.upstream_id}
        free = [s for s in songs if not s.upstream_id and s.status in (Song.Status.PENDING, Song.Status.RUNNING)]
        for track in tracks:
            if track.id in by_track or not songs:
                continue
            if free:
                song = free.pop(0)
                song.match_track(track.id)
                song.upstream_id = track.id
            else:  # the job made more songs than the request waits for: keep it as a take
                song = songs[0].transform.add_take(job_id, track.id, now, first_poll(), beside=songs[0])
            by_track[track.id] = song
    return by_track


# --- polling ----------------------------------------------------------------------------


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _due_songs(now, limit: int, size: int) -> list[Song]:
    """Due songs plus those due soon (within half their interval, unless their poll is aimed
    at their render's end), as many as fill the calls the due ones need anyway (`size` ids a
    call): they share the calls. Only those rows are loaded: with thousands of songs near done,
    loading every song due within the window on every loop took the CPU the downloads needed."""
    due = Song.objects.filter(status=Song.Status.RUNNING, next_poll_at__lte=now)[:limit].count()
    if not due:
        return []
    window = now + timedelta(seconds=settings.RIFFWEB_POLL_MAX / 2)
    candidates = (
        Song.objects.select_related("transform")
        .filter(status=Song.Status.RUNNING, next_poll_at__lte=window)
        .order_by("next_poll_at")[: min(limit, -(-due // size) * size)]
    )
    return [s for s in candidates if s.next_poll_at <= now
            or (s.next_poll_at <= now + timedelta(seconds=0.5 * s.poll_interval) and not _aimed(s))]


def _back_off(songs: list[Song], now) -> None:
    for song in songs:
        interval = min(settings.RIFFWEB_POLL_MAX * 3, max(song.poll_interval * 2, 5.0)) * random.uniform(0.8, 1.2)
        song.wait_longer(now, interval)


def _note_failure(exc: upstream.UpstreamError) -> None:
    log.warning("upstream status call failed: %s", exc)
    if isinstance(exc, upstream.UpstreamAuthError):
        UpstreamState.needs_attention(str(exc), exc.detail, code=exc.status)
    elif isinstance(exc, upstream.UpstreamBusy):
        UpstreamState.note_busy(timezone.now() + timedelta(seconds=exc.retry_after), exc.detail)
    else:
        UpstreamState.note_error(exc.detail)


def _unreachable(state: UpstreamState, exc: upstream.UpstreamError, now) -> None:
    """Status calls fail: stop polling every song and probe with one call, soon and often
    enough that finished songs appear within a normal polling interval of the recovery."""
    log.warning("upstream unreachable: %s", exc)
    since = state.unreachable_since or now
    delay = min(PROBE_MAX, max(settings.RIFFWEB_POLL_MIN, 0.25 * (now - since).total_seconds()))
    UpstreamState.mark_unreachable(now + timedelta(seconds=delay), exc.detail)


def poll_due(client: upstream.Client, state: UpstreamState, noticed=None) -> int:
    """Poll every due song in as few calls as possible; returns the number of calls made.
    `noticed()` is called as soon as a call's answer has finished songs recorded."""
    now = timezone.now()
    if state.busy_until and state.busy_until > now:
        return 0
    if state.unreachable_since and state.probe_at and state.probe_at > now:
        return 0
    size = max(1, min(state.feed_chunk or client.poll_batch, client.poll_batch))
    limit = 1 if state.unreachable_since else size * MAX_CALLS_PER_LOOP  # an outage: one probe
    songs = _due_songs(now, limit, size)
    if state.unreachable_since and not songs:
        songs = list(Song.objects.select_related("transform").filter(status=Song.Status.RUNNING)
                     .order_by("next_poll_at")[:1])
        if not songs:  # nothing left to ask about: no song waits out this outage
            UpstreamState.reachable_again()
    if not songs:
        return 0
    by_job: dict[str, list[Song]] = {}
    for song in songs:
        by_job.setdefault(song.job_id or song.upstream_id, []).append(song)
    return _poll_jobs(client, state, by_job, size, now, noticed)


def _refused(exc: upstream.UpstreamBusy, songs: list[Song], now) -> bool:
    """A 429 on a status call; True when all polling must wait.

    A wait the service names (Retry-After) holds every status call until then. Without one,
    only the songs asked about wait: RIFFWEB_POLL_MIN, half as long again for each status call
    refused in a row, so a stray 429 costs them about a second and a real limit slows polling
    down fast. Their cadence stays: stretching it made a song refused mid-render wait past
    its finish.
    """
    if exc.stated:
        _note_failure(exc)
        return True
    refused = UpstreamState.note_refused(exc.detail)
    wait = min(settings.RIFFWEB_POLL_MAX * 3, settings.RIFFWEB_POLL_MIN * 1.5 ** (refused - 1))
    Song.objects.filter(pk__in=[s.pk for s in songs]).poll_later(now, wait * random.uniform(0.9, 1.1))
    return False


def _halves(items: list) -> list[list]:
    middle = (len(items) + 1) // 2
    return [items[:middle], items[middle:]]


def _poll_jobs(client, state, by_job: dict[str, list[Song]], size: int, now, noticed=None) -> int:
    """Ask about the jobs in batches; a batch the upstream chokes on is asked again.

    A refused list (400, 414) makes every later batch a pair. A 5xx or a malformed answer is
    most often one bad answer: the same batch is asked again at once (after the loop's other
    batches); failing twice, it may be the list's length, so it is asked again in halves. Only
    a batch of one that fails twice, or FAILURES_FOR_OUTAGE failed calls in a row, is an outage.
    A 429 holds back only the songs it refused (see `_refused`). An answer that leaves ids out
    has them asked again in halves at once; one left out alone counts towards "lost".
    """
    calls = failed_in_a_row = 0
    queue_ = [(chunk, 0) for chunk in _chunks(list(by_job), size)]
    while queue_ and calls < MAX_CALLS_PER_LOOP * 2:
        job_ids, failures = queue_.pop(0)
        members = [s for j in job_ids for s in by_job[j]]
        calls += 1
        try:
            reports = client.poll(job_ids, {j: by_job[j][0].upstream_account for j in job_ids})
        except upstream.UpstreamInvalid as exc:
            if len(job_ids) > 2:  # the upstream refuses long lists: fall back to pairs for good
                log.warning("status call refused %d ids (HTTP %s); falling back to pairs", len(job_ids), exc.status)
                UpstreamState.use_feed_chunk(2)
                state.feed_chunk = 2
                queue_ = [(p, 0) for p in _chunks(job_ids, 2)] + [(p, f) for rest, f in queue_ for p in _chunks(rest, 2)]
                continue
            _note_failure(exc)
            _back_off(members, now)
            continue
        except upstream.UpstreamBusy as exc:
            if _refused(exc, members, now):
                return calls
            continue
        except upstream.UpstreamAuthError as exc:
            _note_failure(exc)
            _back_off(members, now)
            continue
        except upstream.UpstreamError as exc:
            failed_in_a_row += 1
            probing = state.unreachable_since is not None  # the probe's answer is the answer
            if failed_in_a_row < FAILURES_FOR_OUTAGE and failures == 0 and not probing:
                log.info("status call about %d ids failed (%s); asking again", len(job_ids), exc)
                UpstreamState.note_error(exc.detail)
                queue_.append((job_ids, 1))
                continue
            if failed_in_a_row < FAILURES_FOR_OUTAGE and len(job_ids) > 1:
                log.warning("status call about %d ids failed twice (%s); asking again in halves", len(job_ids), exc)
                queue_ = [(h, 1) for h in _halves(job_ids)] + queue_
                continue
            _unreachable(state, exc, timezone.now())
            return calls
        failed_in_a_row = 0
        UpstreamState.call_succeeded()
        seen = timezone.now()
        if state.unreachable_since and UpstreamState.reachable_again():
            state.unreachable_since = None
            Song.objects.poll_now(seen)  # everything waited out the outage: ask about it all now
        unreported = [j for j in job_ids if j not in reports]
        if unreported and len(job_ids) > 1:
            log.info("status call about %d ids answered %d; asking about the rest again", len(job_ids), len(reports))
            queue_ = [(h, 0) for h in _halves(unreported) if h] + queue_
        running: list[Song] = []
        finished = 0
        # One commit for the whole answer: committing each finished song on its own made a
        # burst's answers take a disk flush per song (PostgreSQL), and the next poll waited.
        with transaction.atomic():
            for job_id in job_ids:
                tracks = reports.get(job_id)
                if tracks is None:
                    if len(job_ids) == 1:  # not reported even alone: lost after a few such answers
                        for song in by_job[job_id]:
                            interval = next_interval(song.progress, song.progress, 0, song.poll_interval)
                            song.note_missing(seen, interval, settings.RIFFWEB_LOST_AFTER_POLLS)
                    continue
                finished += apply_job(job_id, tracks, seen, known=by_job[job_id], batch=running)
            if running:  # one statement for the whole chunk, not one per song
                Song.objects.bulk_update(running, Song.CADENCE_FIELDS)
        if finished and noticed is not None:
            noticed()
    return calls


# --- downloading --------------------------------------------------------------------------


@cache
def upstream_is_local() -> bool:
    return host_is_local(urlsplit(settings.RIFFWEB_UPSTREAM_URL).hostname or "")


def download_song(song_id: int) -> str:
    """Copy a finished track into our storage: claimed, fetched safely, checked, stored. Its
    cover art and waveform come after (finish_song), once no other finished track waits."""
    started = time.monotonic()
    now = timezone.now()
    song = Song.objects.claim_download(song_id, now, DOWNLOAD_LEASE)
    if song is None:
        return "not due"
    t0 = time.monotonic()
    # Fetched and checked on this machine, then handed to the media storage (disk or a bucket).
    with tempfile.TemporaryDirectory(prefix="riffweb-download-") as folder:
        tmp = Path(folder) / "audio"
        try:
            fetch_to_file(
                song.upstream_audio_url,
                tmp,
                max_bytes=settings.RIFFWEB_AUDIO_MAX_BYTES,
                deadline=settings.RIFFWEB_DOWNLOAD_DEADLINE,
                allow_private=upstream_is_local(),
            )
            t1 = time.monotonic()
            # Frame headers only (an MP3's length and caps, without decoding): the peaks are
            # drawn afterwards, so a burst of finished songs is stored without waiting.
            checked = audio.check_frames(tmp, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
            t2 = time.monotonic()
        except (FetchError, audio.AudioError) as exc:
            log.warning("song %s: download attempt %s failed: %s", song.pk, song.download_attempts, exc)
            return song.download_failed(str(exc), MAX_DOWNLOAD_ATTEMPTS)
        ext = checked.format
        name = media.save_local(tmp, f"songs/{now:%Y/%m}/{song.pk}-{uuid.uuid4().hex[:10]}.{ext}", song.audio.storage)
    if not song.store_audio(name, ext, checked.duration, checked.peaks):
        song.audio.storage.delete(name)
        return "lost claim"
    log.info(
        "song %s stored: %.2fs after the upstream finished; claim %.2fs fetch %.2fs decode %.2fs store %.2fs",
        song.pk, (timezone.now() - song.upstream_done_at).total_seconds() if song.upstream_done_at else -1,
        t0 - started, t1 - t0, t2 - t1, time.monotonic() - t2,
    )
    return "done"


def finish_song(song_id: int) -> str:
    """A stored song's cover art (fetched and re-encoded) and waveform (one full decode of the
    stored audio); safe to run twice. Until then the card shows no picture and the player draws
    the waveform from the audio itself. A refused cover or an undrawable waveform is only logged:
    a song never fails for its extras."""
    song = Song.objects.claim_finishing(song_id, timezone.now(), DOWNLOAD_LEASE)
    if song is None:
        return "not due"
    peaks = song.peaks
    if not peaks:
        try:
            with media.local_copy(song.audio) as path:
                peaks = audio.check(path, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS).peaks
        except (audio.AudioError, OSError) as exc:
            log.warning("song %s: no peaks drawn: %s", song.pk, exc)
    return "finished" if song.finish(peaks, _copy_cover(song)) else "audio replaced"


def _fetch_checked(url: str, max_bytes: int, deadline: float, check):
    """Fetch an upstream link into a temporary file and return `check(path)`; the file goes."""
    with tempfile.TemporaryDirectory(prefix="riffweb-fetch-") as folder:
        path = Path(folder) / "fetched"
        fetch_to_file(url, path, max_bytes=max_bytes, deadline=deadline, allow_private=upstream_is_local())
        return check(path)


def fetch_partial(song_id: int) -> str:
    """Copy the service's preview of an unfinished song into our storage: one fetch, at most
    every RIFFWEB_PREVIEW_REFRESH seconds per song (the claim), size- and time-capped and checked
    as audio like a finished song."""
    now = timezone.now()
    song = Song.objects.claim_partial(song_id, now, settings.RIFFWEB_PREVIEW_REFRESH)
    if song is None:
        return "not due"
    max_seconds = settings.RIFFWEB_AUDIO_MAX_SECONDS

    def stored(path: Path) -> str:
        checked = audio.check_frames(path, max_seconds=max_seconds)  # as a finished song's
        name = f"partials/{now:%Y/%m}/{song.pk}-{uuid.uuid4().hex[:10]}.{checked.format}"
        return media.save_local(path, name, song.partial.storage), checked.format

    try:
        name, fmt = _fetch_checked(song.upstream_partial_url, settings.RIFFWEB_AUDIO_MAX_BYTES,
                                   PARTIAL_DEADLINE, stored)
    except (FetchError, audio.AudioError) as exc:
        log.info("song %s: preview not copied: %s", song.pk, exc)
        return "failed"
    return "stored" if song.store_partial(name, fmt) else "too late"


def _copy_cover(song: Song) -> str:
    """The song's cover art in our storage (its name), or "" when there is none or it is refused."""
    if not song.upstream_image_url or song.cover:
        return ""
    max_pixels = settings.RIFFWEB_COVER_MAX_PIXELS
    try:
        data = _fetch_checked(song.upstream_image_url, settings.RIFFWEB_COVER_MAX_BYTES, COVER_DEADLINE,
                              lambda path: artwork.thumbnail(path, max_pixels))
    except (FetchError, artwork.ArtworkError) as exc:
        log.warning("song %s: cover art refused: %s", song.pk, exc)
        return ""
    now = timezone.now()
    return default_storage.save(f"covers/{now:%Y/%m}/{song.pk}-{uuid.uuid4().hex[:10]}.jpg", ContentFile(data))


def _previews_due(limit: int) -> list[int]:
    due = Song.objects.with_partial_due(timezone.now(), settings.RIFFWEB_PREVIEW_REFRESH)
    return list(due.values_list("pk", flat=True)[:limit])


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


def _storing(now) -> bool:
    """Some worker is storing a finished song's audio right now."""
    return Song.objects.filter(status=Song.Status.DOWNLOADING, lease_until__gt=now).exists()


def work_due(now, limit: int, busy: set[int], extras: bool = True) -> tuple[object, list[int]]:
    """The songs a download thread should take next, with the step to run on each: finished
    tracks to store first, and only when none waits or is being stored (and `extras`), stored
    songs' cover art and waveform: their full decode took the CPU that a burst's downloads and
    the pump's polling needed, so they wait for the burst to pass."""
    due = downloads_due(now, limit, busy)
    if due or not extras or _storing(now):
        return download_song, due
    finishing = Song.objects.finishing_due(now).exclude(pk__in=busy).order_by("finished_at")
    return finish_song, list(finishing.values_list("pk", flat=True)[:limit])


# --- reconciling --------------------------------------------------------------------------


def reconcile(now=None) -> list[int]:
    """Repair what a crash or a lost task left behind; returns transforms to submit now."""
    now = now or timezone.now()
    Transform.objects.expire_claims(now)
    Transform.objects.requeue_orphans(now, QUEUED_GRACE)
    Song.objects.time_out(now - timedelta(seconds=settings.RIFFWEB_UPSTREAM_DEADLINE))
    Song.objects.filter(status=Song.Status.RUNNING, next_poll_at__isnull=True).poll_now(now)
    Song.objects.poison_downloads(now, MAX_DOWNLOAD_ATTEMPTS)
    for render in Transform.objects.lost_renders(now, QUEUED_GRACE):  # riffweb's own mixes
        queue.render_arrangement(render)
    return Transform.objects.due(now, QUEUED_GRACE)


# --- the pump -------------------------------------------------------------------------------


def _claim_pump(owner: str, now) -> bool:
    UpstreamState.ensure()
    return bool(
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON)
        .filter(Q(pump_lease_until__isnull=True) | Q(pump_lease_until__lt=now) | Q(pump_owner=owner)
                | Q(pump_owner=UpstreamState.ON_ITS_WAY))
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
        self.wake = threading.Event()  # set when a poll (or the pump's check) finds songs to store
        self.stopping = False  # the pump is done: lingering threads end
        self.ready: list[tuple[object, int]] = []  # due work found by one query, oldest first
        self.found_at = 0.0

    def take(self, extras: bool) -> tuple[object, int] | None:
        with self.lock:
            # One query finds the next few songs: asking again for every song cost a burst a
            # query per song. What it found is used for READY_FOR at most, since other workers
            # take songs too (a song taken meanwhile costs only a claim that matches nothing).
            if not self.ready or time.monotonic() - self.found_at > READY_FOR:
                step, due = work_due(timezone.now(), CLAIM_SPREAD * 2, self.busy, extras)
                self.ready, self.found_at = [(step, pk) for pk in due], time.monotonic()
            if not self.ready:
                return None
            # One of the oldest few, at random: every worker's threads look at the same oldest
            # songs, and a thread that loses the claim to another worker has to look again.
            step, pk = self.ready.pop(random.randrange(min(CLAIM_SPREAD, len(self.ready))))
            if step is not download_song:
                self.ready = []  # extras wait for any finished song's audio: look again before the next
            self.busy.add(pk)
            return step, pk

    def release(self, pk: int) -> None:
        with self.lock:
            self.busy.discard(pk)


def _download_loop(claims: _Claims, until: float, extras: bool = True, linger: bool = False) -> int:
    """Download (or with `extras`, finish) due songs one after another until none is left (or
    with `linger`, until woken or LINGER passes, then look again) or `until` passes.

    A thread that takes its next song as soon as it finishes one keeps every thread busy
    through a burst; waiting for the pump's next loop to refill it left threads idle for
    most of each loop while finished songs queued. A lingering thread starts a song's download
    the moment the poll that reported it is applied, not after the loop's other status calls.
    """
    done = 0
    try:
        while time.monotonic() < until and not claims.stopping:
            taken = claims.take(extras)
            if taken is None:
                if not linger:
                    break
                claims.wake.wait(max(0.0, min(LINGER, until - time.monotonic())))
                claims.wake.clear()
                continue
            step, pk = taken
            try:
                step(pk)
            except Exception:
                log.exception("%s(%s) failed", step.__name__, pk)
            finally:
                claims.release(pk)
            done += 1
    finally:
        connections.close_all()
    return done


def drain_downloads(seconds: float = DRAIN_SECONDS, threads: int = 2, idle: float = 2.0) -> int:
    """Download finished songs in this worker, then make stored songs' extras, until nothing
    has been due for `idle` seconds or `seconds` pass (short: the pump's successor may be
    waiting for this worker). The extras are made here, never in the pump's process: a full
    decode there took the CPU the pump's polling needed, and songs finishing meanwhile were
    noticed late."""
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
    """Track for a while if no other pump is; returns True when this pump held the lease.

    Without `seconds`, for RIFFWEB_PUMP_SECONDS, and longer (up to PUMP_LONGEST) while songs
    are in flight or the broker's queue is backed up: a successor waits for a free worker, behind
    every queued task (a burst of requests to send) and the drains running, and no song is polled
    or stored meanwhile.
    """
    owner = uuid.uuid4().hex
    if not _claim_pump(owner, timezone.now()):
        return False
    extend = seconds is None
    seconds = settings.RIFFWEB_PUMP_SECONDS if seconds is None else seconds
    end = time.monotonic() + seconds
    longest = time.monotonic() + max(seconds, PUMP_LONGEST)
    threads = settings.RIFFWEB_DOWNLOAD_THREADS  # 0: everything inline (tests on one connection)
    client = upstream.configured()
    # Download threads have a pool of their own: a queue of other work (a burst of requests to
    # send, previews to copy) must never hold them back.
    pool = ThreadPoolExecutor(threads, thread_name_prefix="pump") if threads else None
    side = ThreadPoolExecutor(SIDE_THREADS, thread_name_prefix="pump-side") if threads else None
    running: dict[tuple[str, int], object] = {}  # side work started or waiting for a side thread
    loops: list = []  # threads downloading one due song after another
    claims = _Claims()
    last_reconcile = last_renew = last_drain = 0.0
    held = True

    def start(func, pk, key):
        if key in running:
            return
        if side is None:
            func(pk)
        else:
            running[key] = side.submit(_in_thread, func, pk)

    try:
        while True:
            mono = time.monotonic()
            if mono >= end:
                if not (extend and mono < longest and (Song.objects.in_flight().exists() or queue.backed_up())):
                    break
                end = min(longest, mono + EXTEND_BY)
            if pool is not None:
                close_old_connections()
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
            calls = 0
            try:
                calls = poll_due(client, UpstreamState.get(), noticed=claims.wake.set)
            except Exception:  # a bug must not stop the chain; the rows stay the truth
                log.exception("polling failed")
            running = {pk: f for pk, f in running.items() if not f.done()}
            if pool is None:  # inline: one step a loop: a finished song's audio, else a preview, else extras
                step, due = work_due(timezone.now(), 1, set())
                if step is not download_song and (previews := _previews_due(1)):
                    step, due = fetch_partial, previews
                for pk in due:
                    step(pk)
                time.sleep(LOOP_SLEEP)
                continue
            loops = [f for f in loops if not f.done()]
            for _ in range(threads - len(loops)):
                loops.append(pool.submit(_download_loop, claims, end, False, True))
            with claims.lock:
                due = downloads_due(timezone.now(), threads + 1, claims.busy)
            if due:  # e.g. a callback's song, or a retry whose time came
                claims.wake.set()
            elif len(running) < SIDE_THREADS:
                # Right after the poll that reported them, a preview is worth hearing at once;
                # but a finished song's audio comes first: previews wait while any is due, and
                # are taken only as side threads come free (a queue of them would go stale).
                for pk in _previews_due(SIDE_THREADS - len(running)):
                    start(fetch_partial, pk, ("partial", pk))
            now = timezone.now()
            if mono - last_drain > DRAIN_KICK_EVERY and (len(due) > threads or (
                    not due and Song.objects.finishing_due(now).exists() and not _storing(now))):
                # More finished songs than this pump's threads can take, or extras to make:
                # another worker helps.
                last_drain = mono
                queue.drain_downloads()
            if not calls:  # a loop that asked took its time already, and in a burst more are due
                time.sleep(LOOP_SLEEP)
    finally:
        claims.stopping = True
        claims.wake.set()
        if pool is not None:
            pool.shutdown(wait=True)
            side.shutdown(wait=True)
    if held:
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON, pump_owner=owner).update(
            pump_lease_until=None, heartbeat_at=timezone.now()
        )
    return held
