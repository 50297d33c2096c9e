"""What the upstream calls on us (dialect B's progress callbacks, dialect A's upload fetch), and
the staff page on fixing the music service account."""

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from riffweb.audio_response import audio_response
from riffweb.studio.models import Transform, Upload
from riffweb.upstream import callbacks
from riffweb.upstream import client as upstream
from riffweb.upstream.context_processors import account_endpoint
from riffweb.upstream.dialects import current as current_dialect
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.submit import first_poll
from riffweb.upstream.tracker import apply_job
from riffweb.upstream.uploads import LINK_SALT

log = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 1_000_000


@csrf_exempt
@require_POST
def callback(request):
    """Progress from the upstream, proved by the `replyRef` in its body (riffweb/upstream/callbacks.py).

    Forged (unknown request or wrong secret: the same 404), duplicate or late calls change nothing.
    """
    if len(request.body) > MAX_CALLBACK_BYTES:
        return HttpResponse(status=413)
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
        log.warning("unreadable callback body")
        return HttpResponse(status=400)
    transform = callbacks.verified_transform(data)
    if transform is None:
        raise Http404("No such callback.")
    tracks = [t for t in (upstream.parse_track(i) for i in upstream.track_items(data) or []) if t]
    job_id = str(data.get("job_id") or "") if isinstance(data, dict) else ""
    job_id = job_id or (transform.upstream_ids[-1] if transform.upstream_ids else "")
    if tracks and job_id:
        if transform.status == Transform.Status.UNKNOWN:
            transform.adopt([job_id], first_poll())
        apply_job(job_id, tracks, timezone.now(), via_callback=True)
    return JsonResponse({"ok": True})


@require_GET
def upload_file(request, token: str):
    """Our copy of an upload, for dialect A's upstream to fetch; the link is signed and expires."""
    try:
        upload_id = signing.loads(token, salt=LINK_SALT, max_age=60 * 60)
    except signing.BadSignature:
        raise Http404("No such file.") from None
    upload = Upload.objects.filter(pk=upload_id, deleted_at__isnull=True).first()
    if upload is None or not upload.audio:
        raise Http404("No such file.")
    # Streamed even when browsers are sent to the store: the upstream may not reach it.
    return audio_response(request, upload.audio, upload.audio_format, None, redirect=False)


@login_required
@require_GET
def attention(request):
    """Staff only: what the music service said, and how to fix it, step by step, for the
    configured dialect. The token is never shown."""
    if not request.user.is_staff:
        raise PermissionDenied("Only staff see the music service's account.")
    return render(request, "upstream/attention.html", {
        "state": UpstreamState.get(), "dialect": current_dialect(), "endpoint": account_endpoint(),
        "base_url": settings.RIFFWEB_UPSTREAM_URL,
    })
