"""Lyrics on the studio's pages: "Write lyrics for me" (a draft a worker asks the service for, and
its progress poll) and a song's timed lyrics as an .lrc file."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from riffweb.http import HtmxHttpRequest
from riffweb.studio import access
from riffweb.studio.models import LyricsDraft, TooManyDrafts
from riffweb.upstream import dialects

TEMPLATE = "studio/_lyrics_help.html#lyrics-help"
PROMPT_MAX = 500


@login_required
@require_POST
def lyrics_draft_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, _ = access.get_project_for(request.user, pk, need="edit")
    prompt = " ".join(request.POST.get("lyrics_prompt", "").split())
    context = {"project": project}
    error = dialects.reason("lyrics_help")
    if not error and not prompt:
        error = "Say what the song is about, e.g. “late-night drive along the coast”."
    elif not error and len(prompt) > PROMPT_MAX:
        error = f"Keep the idea under {PROMPT_MAX} characters (it has {len(prompt)})."
    status = 400
    if not error:
        try:
            context["draft"] = LyricsDraft.objects.start(
                project=project, user=request.user, prompt=prompt, dialect=settings.RIFFWEB_UPSTREAM_DIALECT,
            )
        except TooManyDrafts as exc:
            error, status = str(exc), 429
    context |= {"error": error, "prompt": prompt}
    # htmx 2 swaps only 2xx answers: the message must reach the form.
    return render(request, TEMPLATE, context, status=200 if request.htmx or not error else status)


@login_required
@require_GET
def lyrics_draft_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    draft = access.get_lyrics_draft_for(request.user, pk)
    draft.give_up_if_stale(timezone.now())
    status = HttpResponseStopPolling.status_code if draft.is_finished else 200
    context = {"project": draft.project, "draft": draft, "prompt": draft.prompt}
    return render(request, TEMPLATE, context, status=status)


def lrc_response(song) -> HttpResponse:
    if not song.timed_lyrics:
        raise Http404("This song has no timed lyrics.")
    response = HttpResponse(song.lrc(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{song.lrc_name()}"'
    return response


@login_required
@require_GET
def song_lyrics_lrc(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return lrc_response(access.get_song_for(request.user, pk))
