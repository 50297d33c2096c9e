"""Sending a musician's upload (already copied into our storage) to the upstream.

Dialect B takes the raw bytes, then transcribes: we poll its upload status (pending →
anything else) from the pump. Dialect A fetches a URL: we hand it a signed, expiring link to
our own copy, built on RIFFWEB_PUBLIC_URL. Either way the client answers with the id a
transform sends as `audio_upload_id`, kept as given on `Upload.audio_upload_id`.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from riffweb import audio
from riffweb.studio.models import Failure, Upload, failure_message
from riffweb.upstream import client as upstream
from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=180)
MAX_ATTEMPTS = 6
PENDING_LIMIT = timedelta(minutes=10)  # still pending after 10 minutes: it never will be
LINK_SALT = "riffweb.upstream.upload-file"
QUEUED_GRACE = timedelta(seconds=10)

NO_PUBLIC_URL = (
    "This music service fetches uploads from a link to riffweb, and riffweb does not know its "
    "public address. An operator must set RIFFWEB_PUBLIC_URL."
)
FLAGGED = "The music service flagged this audio and will not use it."
NEVER_READY = "The music service did not finish processing this upload within 10 minutes."
NOT_PROCESSED = "The music service could not process this audio."
GAVE_UP = "The music service kept failing, so we stopped trying. Upload it again later."
# Well past the fetch task's own deadline and django-q2's redelivery: the task was lost.
LOST_FETCH_AFTER = timedelta(minutes=5)
LOST_FETCH = "We could not fetch that link in time. Add it again, or upload the file itself."


def signed_link(upload: Upload) -> str:
    token = signing.dumps(upload.pk, salt=LINK_SALT)
    return settings.RIFFWEB_PUBLIC_URL + reverse("upstream:upload_file", args=[token])


def send_upload(upload_id: int) -> str:
    upload = Upload.objects.claim_for_send(upload_id, timezone.now(), LEASE)
    if upload is None:
        return "not due"
    if not upload.audio:
        upload.fail("This upload has no audio yet.", "send_upload before the file was stored")
        return "failed"
    client = upstream.configured()
    link, data = "", b""
    if client.uploads_by_link:
        if not settings.RIFFWEB_PUBLIC_URL:
            upload.fail(NO_PUBLIC_URL, "RIFFWEB_PUBLIC_URL is unset")
            return "failed"
        link = signed_link(upload)
    else:  # only a service that takes the bytes needs them read
        with upload.audio.open("rb") as handle:
            data = handle.read()
    name = PurePosixPath(upload.audio.name).stem  # API.md, uploads: the name without its extension
    try:
        info = client.upload(data, name, audio.CONTENT_TYPES.get(upload.audio_format, "audio/mpeg"), link)
    except (upstream.UpstreamBusy, upstream.UpstreamUnavailable, upstream.UpstreamTimeout) as exc:
        return _again(upload, exc)
    except upstream.UpstreamAuthError as exc:
        UpstreamState.needs_attention(str(exc), exc.detail, code=exc.status)
        upload.fail(failure_message(Failure.ACCOUNT), exc.detail)
        return "failed"
    except (upstream.UpstreamRejected, upstream.UpstreamInvalid) as exc:
        upload.fail(f"The music service declined this audio ({exc.reason}).", exc.detail)
        return "failed"
    UpstreamState.call_succeeded()
    upload.record_sent(info.id, info.audio_upload_id)
    return _apply_status(upload, info)


def poll_upload(upload_id: int) -> str:
    """Dialect B: ask how the transcription is going."""
    upload = Upload.objects.filter(pk=upload_id, status=Upload.Status.PROCESSING).first()
    if upload is None:
        return "not processing"
    try:
        info = upstream.configured().upload_status(upload.upstream_id)
    except upstream.UpstreamError as exc:
        delay = min(120.0, 5.0 * 2 ** min(upload.attempts, 5)) * random.uniform(0.8, 1.2)
        upload.ask_again(timezone.now() + timedelta(seconds=delay), exc.detail)
        if isinstance(exc, upstream.UpstreamAuthError):
            UpstreamState.needs_attention(str(exc), exc.detail, code=exc.status)
        return "retry"
    UpstreamState.call_succeeded()
    if info.audio_upload_id:
        upload.record_sent(upload.upstream_id, info.audio_upload_id)
    return _apply_status(upload, info)


def _apply_status(upload: Upload, info: upstream.UploadInfo) -> str:
    now = timezone.now()
    if info.state == "ready":
        upload.mark_ready(info.lyrics)
        return "ready"
    if info.state == "flagged":
        upload.mark_flagged(FLAGGED)
        return "flagged"
    if info.state == "failed":
        upload.fail(NOT_PROCESSED)
        return "failed"
    if upload.created_at < now - PENDING_LIMIT:
        upload.fail(NEVER_READY)
        return "failed"
    upload.wait_processing(now + timedelta(seconds=2))
    return "pending"


def _again(upload: Upload, exc: upstream.UpstreamError) -> str:
    if upload.attempts >= MAX_ATTEMPTS:
        upload.fail(GAVE_UP, exc.detail)
        return "failed"
    delay = getattr(exc, "retry_after", None) or min(300.0, 5.0 * 2 ** (upload.attempts - 1)) * random.uniform(0.8, 1.2)
    upload.requeue_send(timezone.now() + timedelta(seconds=delay), exc.detail)
    return "retry"


def uploads_due(now) -> tuple[list[int], list[int]]:
    """(uploads to send, uploads to poll) for the pump's reconcile pass.

    A link whose fetch task was lost ends as failed here instead of "checking" forever.
    """
    Upload.objects.lost_fetches(now - LOST_FETCH_AFTER).fail(LOST_FETCH)
    return Upload.objects.due(now, QUEUED_GRACE)
