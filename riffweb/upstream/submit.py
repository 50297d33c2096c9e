"""Sending one request's create call upstream, exactly once.

The Transform row is claimed with a conditional UPDATE (QUEUED → SUBMITTING), so a
redelivered or duplicated task finds nothing to do. The upstream's job ids are recorded in
the same transaction that ends the claim, before anything else runs. A create that was sent
and got no answer is recorded as UNKNOWN and never resent on its own: the musician decides.
Every state change is a verb of the studio's models; this module decides which one.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from riffweb.studio.models import Failure, Transform
from riffweb.upstream import callbacks
from riffweb.upstream import client as upstream
from riffweb.upstream.dialects import callbacks_enabled
from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

SUBMIT_LEASE = timedelta(seconds=120)
MAX_SUBMIT_ATTEMPTS = 8


def first_poll() -> float:
    """Seconds from a create to its first status call (with callbacks, only a safety net)."""
    return settings.RIFFWEB_CALLBACK_SAFETY_POLL if callbacks_enabled() else settings.RIFFWEB_POLL_FIRST


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
        source_style=source.tags if source else "",
        audio_upload_id=(transform.source_upload.audio_upload_id if transform.source_upload
                         else source.transform.mix_upload_id_upstream if source else ""),
    )
    if callbacks_enabled():
        req.reply_url = callbacks.reply_url(transform)
        req.reply_ref = callbacks.reply_ref(transform)
    return req


def submit_transform(transform_id: int) -> str:
    transform = Transform.objects.claim_for_submit(transform_id, timezone.now(), SUBMIT_LEASE)
    if transform is None:
        return "not due"
    source = transform.source_song
    if source and not source.upstream_id and not source.transform.mix_upload_id_upstream:
        transform.fail_submission(Failure.SOURCE, "source song has no upstream id")
        return "failed"
    try:
        jobs = upstream.configured().create(build_request(transform))
    except upstream.UpstreamTimeout as exc:
        log.warning("transform %s: create sent, no answer; outcome unknown", transform.pk)
        transform.fail_submission(Failure.UNKNOWN, exc.detail)
        return "unknown"
    except upstream.UpstreamBusy as exc:
        # A busy upstream is not a broken one: wait as long as the deadline allows.
        return _again(transform, exc.retry_after, exc, busy=True, note=busy_note(exc.running_jobs))
    except upstream.UpstreamUnavailable as exc:
        delay = min(300.0, 5.0 * 2 ** (transform.attempts - 1)) * random.uniform(0.8, 1.2)
        return _again(transform, delay, exc)
    except upstream.UpstreamAuthError as exc:
        UpstreamState.needs_attention(str(exc), exc.detail, code=exc.status)
        transform.fail_submission(Failure.ACCOUNT, f"{exc}\n{exc.detail}")
        return "failed"
    except upstream.UpstreamRejected as exc:
        transform.fail_submission(Failure.REJECTED, exc.detail, reason=exc.reason)
        return "failed"
    except upstream.UpstreamInvalid as exc:
        transform.fail_submission(Failure.REJECTED, exc.detail, reason=exc.reason)
        return "failed"
    accounts = {j.job_id: j.user_id for j in jobs if j.user_id}
    if not transform.record_submission([(j.job_id, j.track_id) for j in jobs], first_poll(), accounts):
        log.error("transform %s: submitted as %s after losing its claim", transform.pk, jobs)
    else:
        log.info("transform %s: submitted as %s", transform.pk, ", ".join(j.job_id for j in jobs))
    UpstreamState.call_succeeded()
    return "submitted"


def busy_note(running_jobs: int | None) -> str:
    if running_jobs:
        jobs = "1 job" if running_jobs == 1 else f"{running_jobs} jobs"
        return f"The music service is busy with {jobs}; this one will start when one finishes."
    return "The music service is busy; this request will start as soon as it has room."


def _again(transform: Transform, delay: float, exc: upstream.UpstreamError, busy: bool = False,
           note: str = "") -> str:
    log.warning("transform %s: upstream said %s; retrying in %.0fs", transform.pk, type(exc).__name__, delay)
    age = (timezone.now() - transform.created_at).total_seconds()
    if age > settings.RIFFWEB_UPSTREAM_DEADLINE or (not busy and transform.attempts >= MAX_SUBMIT_ATTEMPTS):
        transform.fail_submission(Failure.SERVICE, exc.detail)
        return "failed"
    transform.requeue_submit(delay, exc.detail, note)
    UpstreamState.note_error(exc.detail)
    return "retry"
