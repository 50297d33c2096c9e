"""Sending one Transform upstream, exactly once.

The Transform row is claimed with a conditional UPDATE (QUEUED → SUBMITTING), so a
redelivered or duplicated task finds nothing to do. The upstream ids are written in the same
transaction that ends the claim, before anything else runs. A create that was sent and got
no answer is recorded as UNKNOWN and never resent on its own: the musician decides.
"""

from __future__ import annotations

import logging
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from riffweb import queue
from riffweb.studio.models import Song, Transform
from riffweb.upstream import callbacks
from riffweb.upstream import client as upstream
from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

SUBMIT_LEASE = timedelta(seconds=120)
MAX_SUBMIT_ATTEMPTS = 8

UNKNOWN_MESSAGE = (
    "The music service did not confirm this request, so we cannot tell whether it started. "
    "Retry to send it again."
)
OPERATOR_MESSAGE = "The music service is not available right now. Our team has been told."
GAVE_UP_MESSAGE = "The music service kept failing, so we stopped trying. Retry in a while."


def callbacks_enabled() -> bool:
    return settings.RIFFWEB_UPSTREAM_DIALECT == upstream.USEAPI and bool(settings.RIFFWEB_PUBLIC_URL)


def build_request(transform: Transform) -> upstream.Request:
    prompts = [
        upstream.Prompt(
            text=str(p.get("text", "")),
            strength=float(p.get("strength", 0.5)),
            start=float(p.get("start", 0.0)),
            end=float(p.get("end", 1.0)),
        )
        for p in (transform.prompts or [])
        if isinstance(p, dict) and p.get("text")
    ]
    source = transform.source_song
    req = upstream.Request(
        mode=transform.mode,
        title=transform.title,
        lyrics=transform.lyrics,
        tags=transform.tags,
        topic=transform.topic,
        model=transform.model,
        instrumental=transform.instrumental,
        seed=transform.seed,
        prompts=prompts,
        lyrics_strength=transform.lyrics_strength,
        sound_prompt_strength=transform.sound_prompt_strength,
        weirdness=transform.weirdness,
        cover_strength=transform.cover_strength,
        variation_strength=transform.variation_strength,
        extend_at=transform.extend_at,
        replace_start=transform.replace_start,
        replace_end=transform.replace_end,
        riff_id=source.upstream_id if source else "",
        audio_upload_id=transform.source_upload.upstream_id.split(":")[0] if transform.source_upload else "",
    )
    if callbacks_enabled():
        req.reply_url = callbacks.reply_url(transform)
        req.reply_ref = callbacks.reply_ref(transform)
    return req


def submit_transform(transform_id: int) -> str:
    now = timezone.now()
    claimed = (
        Transform.objects.filter(pk=transform_id, status=Transform.Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=Transform.Status.SUBMITTING, lease_until=now + SUBMIT_LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not due"
    transform = Transform.objects.select_related("source_song", "source_upload").get(pk=transform_id)
    if transform.source_song_id and not transform.source_song.upstream_id:
        _fail(transform, "The source song is not known to the music service.", "source song has no upstream id")
        return "failed"
    try:
        request = build_request(transform)
        ids = upstream.configured().create(request)
    except upstream.UpstreamTimeout as exc:
        _unknown(transform, exc.detail)
        return "unknown"
    except upstream.UpstreamBusy as exc:
        # A busy upstream is not a broken one: wait as long as the deadline allows.
        return _again(transform, exc.retry_after, exc, busy=True)
    except upstream.UpstreamUnavailable as exc:
        delay = min(300.0, 5.0 * 2 ** (transform.attempts - 1)) * random.uniform(0.8, 1.2)
        return _again(transform, delay, exc)
    except upstream.UpstreamAuthError as exc:
        UpstreamState.needs_attention(str(exc), exc.detail)
        _fail(transform, OPERATOR_MESSAGE, f"{exc}\n{exc.detail}")
        return "failed"
    except (upstream.UpstreamRejected, upstream.UpstreamInvalid) as exc:
        _fail(transform, str(exc)[:500], exc.detail)
        return "failed"
    _record(transform, ids)
    UpstreamState.call_succeeded()
    return "submitted"


def _record(transform: Transform, ids: list[str]) -> None:
    now = timezone.now()
    callbacks = callbacks_enabled()
    first = settings.RIFFWEB_CALLBACK_SAFETY_POLL if callbacks else settings.RIFFWEB_POLL_FIRST
    with transaction.atomic():
        updated = Transform.objects.filter(pk=transform.pk, status=Transform.Status.SUBMITTING).update(
            status=Transform.Status.SUBMITTED,
            upstream_ids=ids,
            submitted_at=now,
            lease_until=None,
            next_attempt_at=None,
            error="",
        )
        if not updated:  # our claim was taken from us (lease expired): keep the ids for operators
            log.error("transform %s: submitted as %s after losing its claim", transform.pk, ids)
            Transform.objects.filter(pk=transform.pk).update(
                upstream_ids=ids, error_detail=f"late answer: upstream ids {ids}"
            )
            return
        songs = list(transform.songs.filter(status=Song.Status.PENDING).order_by("variant"))
        per_track = transform.dialect != upstream.USEAPI and settings.RIFFWEB_UPSTREAM_DIALECT != upstream.USEAPI
        for song in songs:
            fields = dict(
                status=Song.Status.RUNNING,
                next_poll_at=now + timedelta(seconds=first * random.uniform(0.9, 1.1)),
                poll_interval=first,
                last_progress_at=now,
                progress=0,
            )
            if per_track:
                if song.variant < len(ids):
                    fields["upstream_id"] = ids[song.variant]
                else:
                    fields.update(
                        status=Song.Status.FAILED,
                        error="The music service made fewer variants than asked.",
                        finished_at=now,
                        next_poll_at=None,
                    )
            Song.objects.filter(pk=song.pk, status=Song.Status.PENDING).update(**fields)


def _again(transform: Transform, delay: float, exc: upstream.UpstreamError, busy: bool = False) -> str:
    log.warning("transform %s: upstream said %s; retrying in %.0fs", transform.pk, type(exc).__name__, delay)
    age = (timezone.now() - transform.created_at).total_seconds()
    if age > settings.RIFFWEB_UPSTREAM_DEADLINE or (not busy and transform.attempts >= MAX_SUBMIT_ATTEMPTS):
        _fail(transform, GAVE_UP_MESSAGE, exc.detail)
        return "failed"
    Transform.objects.filter(pk=transform.pk, status=Transform.Status.SUBMITTING).update(
        status=Transform.Status.QUEUED,
        lease_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        error_detail=exc.detail[:20000],
    )
    UpstreamState.ensure()
    UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).update(last_error_detail=exc.detail[:20000])
    return "retry"


def _fail(transform: Transform, message: str, detail: str, status=Transform.Status.FAILED) -> None:
    now = timezone.now()
    with transaction.atomic():
        Transform.objects.filter(pk=transform.pk).exclude(status=Transform.Status.SUBMITTED).update(
            status=status, lease_until=None, next_attempt_at=None, error=message[:500], error_detail=detail[:20000]
        )
        transform.songs.exclude(status__in=Song.FINISHED).update(
            status=Song.Status.FAILED, error=message[:500], error_detail=detail[:20000], finished_at=now,
            next_poll_at=None, lease_until=None,
        )


def _unknown(transform: Transform, detail: str) -> None:
    log.warning("transform %s: create sent, no answer; outcome unknown", transform.pk)
    _fail(transform, UNKNOWN_MESSAGE, detail, status=Transform.Status.UNKNOWN)


def adopt_unknown(transform_id: int, upstream_ids: list[str]) -> bool:
    """A create we recorded as UNKNOWN called back (dialect B): it did start, so track it."""
    now = timezone.now()
    with transaction.atomic():
        adopted = Transform.objects.filter(pk=transform_id, status=Transform.Status.UNKNOWN).update(
            status=Transform.Status.SUBMITTED, upstream_ids=upstream_ids, submitted_at=now, error="",
            error_detail="adopted: the upstream called back after a create that got no answer",
        )
        if adopted:
            Song.objects.filter(transform_id=transform_id, status=Song.Status.FAILED, error=UNKNOWN_MESSAGE).update(
                status=Song.Status.RUNNING, error="", error_detail="", finished_at=None, last_progress_at=now,
                next_poll_at=now + timedelta(seconds=settings.RIFFWEB_CALLBACK_SAFETY_POLL),
            )
    return bool(adopted)


def retry_transform(transform_id: int) -> bool:
    """Send a failed, unknown or timed-out request again (the musician's retry action).

    Only when none of its songs is done or still being made; returns whether it was requeued.
    """
    with transaction.atomic():
        transform = Transform.objects.select_for_update().filter(pk=transform_id).first()
        if transform is None:
            return False
        songs = transform.songs.all()
        if any(s.status not in {Song.Status.FAILED, Song.Status.TIMED_OUT} for s in songs):
            return False
        transform.status = Transform.Status.QUEUED
        transform.upstream_ids = []
        transform.attempts = 0
        transform.lease_until = transform.next_attempt_at = transform.submitted_at = None
        transform.error = transform.error_detail = ""
        transform.callback_secret = secrets.token_urlsafe()
        transform.save(update_fields=[
            "status", "upstream_ids", "attempts", "lease_until", "next_attempt_at", "submitted_at",
            "error", "error_detail", "callback_secret",
        ])
        songs.update(
            status=Song.Status.PENDING, upstream_id="", progress=0, error="", error_detail="",
            upstream_audio_url="", next_poll_at=None, poll_interval=2.0, polls=0, last_progress_at=None,
            lease_until=None, download_attempts=0, upstream_done_at=None, finished_at=None,
        )
    transaction.on_commit(lambda: queue.submit_request(transform_id))
    return True
