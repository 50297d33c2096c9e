"""Sending a musician's upload (already copied into our storage) to the upstream.

Dialect B takes the raw bytes, then transcribes: we poll its upload status (pending →
complete, or flagged) from the pump. Dialect A fetches a URL: we hand it a signed, expiring
link to our own copy, built on RIFFWEB_PUBLIC_URL. Either way `Upload.upstream_id` ends up
holding what a transform sends as `audio_upload_id` (B's status id is kept until then).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from riffweb import audio
from riffweb.studio.models import Upload
from riffweb.upstream import client as upstream
from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=180)
MAX_ATTEMPTS = 6
PENDING_LIMIT = timedelta(minutes=10)  # CONTRACT §3: still pending after 10 minutes → never
LINK_SALT = "riffweb.upstream.upload-file"

NO_PUBLIC_URL = (
    "This music service fetches uploads from a link to riffweb, and riffweb does not know its "
    "public address. An operator must set RIFFWEB_PUBLIC_URL."
)
FLAGGED = "The music service flagged this audio and will not use it."
NEVER_READY = "The music service did not finish processing this upload within 10 minutes."


def signed_link(upload: Upload) -> str:
    token = signing.dumps(upload.pk, salt=LINK_SALT)
    return settings.RIFFWEB_PUBLIC_URL + reverse("upstream:upload_file", args=[token])


def audio_upload_id(upload: Upload) -> str:
    return upload.upstream_id.split(":")[0]


def send_upload(upload_id: int) -> str:
    now = timezone.now()
    claimed = (
        Upload.objects.filter(pk=upload_id, status=Upload.Status.PENDING, upstream_id="")
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not due"
    upload = Upload.objects.get(pk=upload_id)
    if not upload.audio:
        return _fail(upload, "This upload has no audio yet.", "send_upload before the file was stored")
    client = upstream.configured()
    try:
        if client.dialect == upstream.RIFFUSION:
            if not settings.RIFFWEB_PUBLIC_URL:
                return _fail(upload, NO_PUBLIC_URL, "RIFFWEB_PUBLIC_URL is unset")
            upstream_id = client.upload_url(signed_link(upload))
            Upload.objects.filter(pk=upload.pk).update(
                upstream_id=upstream_id[:200], status=Upload.Status.READY, lease_until=None, error=""
            )
            UpstreamState.call_succeeded()
            return "ready"
        with upload.audio.open("rb") as handle:
            data = handle.read()
        name = upload.audio.name.rsplit("/", 1)[-1]
        info = client.upload_bytes(data, name, audio.CONTENT_TYPES.get(upload.audio_format, "audio/mpeg"))
    except (upstream.UpstreamBusy, upstream.UpstreamUnavailable, upstream.UpstreamTimeout) as exc:
        return _again(upload, exc)
    except upstream.UpstreamAuthError as exc:
        UpstreamState.needs_attention(str(exc), exc.detail)
        from riffweb.upstream.submit import OPERATOR_MESSAGE

        return _fail(upload, OPERATOR_MESSAGE, exc.detail)
    except (upstream.UpstreamRejected, upstream.UpstreamInvalid) as exc:
        return _fail(upload, str(exc), exc.detail)
    UpstreamState.call_succeeded()
    Upload.objects.filter(pk=upload.pk).update(upstream_id=info.id[:200], lease_until=None, error="")
    return _apply_status(upload.pk, info)


def poll_upload(upload_id: int) -> str:
    """Dialect B: ask how the transcription is going."""
    upload = Upload.objects.filter(pk=upload_id, status=Upload.Status.PROCESSING).first()
    if upload is None:
        return "not processing"
    try:
        info = upstream.configured().upload_status(upload.upstream_id)
    except upstream.UpstreamError as exc:
        delay = min(120.0, 5.0 * 2 ** min(upload.attempts, 5)) * random.uniform(0.8, 1.2)
        Upload.objects.filter(pk=upload.pk).update(
            next_poll_at=timezone.now() + timedelta(seconds=delay), error_detail=exc.detail[:20000],
            attempts=F("attempts") + 1,
        )
        if isinstance(exc, upstream.UpstreamAuthError):
            UpstreamState.needs_attention(str(exc), exc.detail)
        return "retry"
    UpstreamState.call_succeeded()
    return _apply_status(upload.pk, info)


def _apply_status(upload_pk: int, info: upstream.UploadInfo) -> str:
    now = timezone.now()
    live = Upload.objects.filter(pk=upload_pk, status__in=[Upload.Status.PENDING, Upload.Status.PROCESSING])
    if info.state == "ready":
        live.update(status=Upload.Status.READY, transcribed_lyrics=info.lyrics, next_poll_at=None, lease_until=None)
        return "ready"
    if info.state == "flagged":
        live.update(status=Upload.Status.FLAGGED, error=FLAGGED, next_poll_at=None, lease_until=None)
        return "flagged"
    if info.state == "failed":
        live.update(status=Upload.Status.FAILED, error="The music service could not process this audio.",
                    next_poll_at=None, lease_until=None)
        return "failed"
    upload = Upload.objects.get(pk=upload_pk)
    if upload.created_at < now - PENDING_LIMIT:
        live.update(status=Upload.Status.FAILED, error=NEVER_READY, next_poll_at=None, lease_until=None)
        return "failed"
    live.update(status=Upload.Status.PROCESSING, next_poll_at=now + timedelta(seconds=2), lease_until=None)
    return "pending"


def _again(upload: Upload, exc: upstream.UpstreamError) -> str:
    if upload.attempts >= MAX_ATTEMPTS:
        return _fail(upload, "The music service kept failing, so we stopped trying. Upload it again later.", exc.detail)
    delay = getattr(exc, "retry_after", None) or min(300.0, 5.0 * 2 ** (upload.attempts - 1)) * random.uniform(0.8, 1.2)
    Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(
        lease_until=None, next_poll_at=timezone.now() + timedelta(seconds=delay), error_detail=exc.detail[:20000]
    )
    return "retry"


def _fail(upload: Upload, message: str, detail: str) -> str:
    Upload.objects.filter(pk=upload.pk).exclude(status=Upload.Status.READY).update(
        status=Upload.Status.FAILED, error=message[:500], error_detail=detail[:20000], lease_until=None,
        next_poll_at=None,
    )
    return "failed"


# Well past the fetch task's own deadline and django-q2's redelivery: the task was lost.
LOST_FETCH_AFTER = timedelta(minutes=5)
LOST_FETCH = "We could not fetch that link in time. Add it again, or upload the file itself."


def uploads_due(now) -> tuple[list[int], list[int]]:
    """(uploads to send, uploads to poll) for the pump's reconcile pass.

    A link whose fetch task was lost ends as failed here instead of "checking" forever.
    """
    Upload.objects.filter(
        status=Upload.Status.PENDING, audio="", created_at__lt=now - LOST_FETCH_AFTER
    ).exclude(source_url="").update(status=Upload.Status.FAILED, error=LOST_FETCH)
    to_send = (
        Upload.objects.filter(status=Upload.Status.PENDING, upstream_id="", deleted_at__isnull=True)
        .exclude(audio="")
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True, created_at__lt=now - timedelta(seconds=10)))
        .values_list("pk", flat=True)[:50]
    )
    to_poll = Upload.objects.filter(status=Upload.Status.PROCESSING, next_poll_at__lte=now).values_list("pk", flat=True)[:50]
    return list(to_send), list(to_poll)
