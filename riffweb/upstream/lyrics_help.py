""""Write lyrics for me": one call to the music service per draft, made by a worker, never a web request.

The draft is claimed with a conditional update (safe to run twice); every failure ends it with a
sentence the musician can act on, and an account problem also raises the staff banner.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from riffweb.studio.models import LyricsDraft
from riffweb.upstream import client as upstream
from riffweb.upstream import dialects
from riffweb.upstream.models import UpstreamState

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # the create timeout (30 s) plus room; a dead worker's claim lapses


def failure_message(exc: upstream.UpstreamError) -> str:
    if isinstance(exc, upstream.UpstreamBusy):
        jobs = exc.running_jobs
        busy = f" with {jobs} job{'s' if jobs != 1 else ''}" if jobs else ""
        return f"The music service is busy{busy}. Try again in a minute."
    if isinstance(exc, upstream.UpstreamAuthError):
        return "The music service account needs attention; our team has been told. Try again later."
    if isinstance(exc, upstream.UpstreamRejected):
        return f"The music service declined this prompt ({exc.reason}). Change it and try again."
    if isinstance(exc, upstream.UpstreamInvalid):
        return f"The music service refused this prompt: {exc.reason}"
    return "The music service is not answering right now. Try again in a while."


def write_lyrics(draft_id: int) -> str:
    draft = LyricsDraft.objects.claim(draft_id, timezone.now(), LEASE)
    if draft is None:
        return "not due"
    dialect = draft.dialect or settings.RIFFWEB_UPSTREAM_DIALECT
    reason = dialects.reason("lyrics_help", dialect)
    if reason:
        draft.mark_failed(reason)
        return "not offered"
    try:
        client = upstream.client_for(dialect, settings.RIFFWEB_UPSTREAM_URL, settings.RIFFWEB_UPSTREAM_TOKEN)
        lyrics = client.generate_lyrics(draft.prompt)
    except upstream.UpstreamError as exc:
        log.warning("lyrics draft %s failed: %s", draft.pk, exc)
        if isinstance(exc, upstream.UpstreamAuthError):
            UpstreamState.needs_attention(str(exc), exc.detail)
        draft.mark_failed(failure_message(exc), exc.detail)
        return "failed"
    draft.mark_done(lyrics.strip())
    return "done"

