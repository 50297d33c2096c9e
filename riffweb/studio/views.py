"""The studio's pages: projects, a song with its variants, an upload; files; the cards' one poll.

The forms these pages carry post to mode_views.py; both build their context in page_context.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from riffweb.http import HtmxHttpRequest
from riffweb.review.feeds import list_context
from riffweb.studio import access, cards, live
from riffweb.audio_response import audio_response, download_response, image_response
from riffweb.studio.family import family_node
from riffweb.studio.forms import ProjectForm
from riffweb.studio.models import Project, Song, SongFile, Transform, Upload
from riffweb.takes.models import with_tally
from riffweb.studio.page_context import (
    cards_context, generation_context, song_files_context, song_page_context, source_context,
)
from riffweb.upstream import dialects

RECENT_REQUESTS = 30


@login_required
@require_GET
def project_list(request: HtmxHttpRequest) -> HttpResponse:
    projects = access.projects_for(request.user).order_by("name")
    return render(
        request, "studio/project_list.html", {"projects": projects, "form": ProjectForm()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = Project.create_for(request.user, **form.cleaned_data)
        return redirect(project)
    projects = access.projects_for(request.user).order_by("name")
    return render(request, "studio/project_list.html", {"projects": projects, "form": form})


@login_required
@require_GET
def project_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk, need="view")
    context = generation_context(request, project, membership)
    if request.htmx and request.htmx.target == "transform-form":
        return render(request, "studio/project_detail.html#transform-form", context)
    # A request shows the songs that are in this project now: a variant moved elsewhere is not
    # shown here, and one moved in is.
    here = with_tally(Song.objects.filter(project=project, deleted_at__isnull=True), request.user).order_by("variant")
    transforms = list(
        Transform.objects.filter(songs__in=here).distinct()
        # and the comments a request answers ("Inpaint this region"): one query for the page
        .prefetch_related(Prefetch("songs", queryset=here), "answers__author")[:RECENT_REQUESTS]
    )
    uploads = project.uploads.filter(deleted_at__isnull=True)[:RECENT_REQUESTS]
    songs = [song for transform in transforms for song in transform.songs.all()]
    editable = {project.pk} if membership.can_edit else set()
    context |= cards_context(songs, editable) | {"transforms": transforms, "uploads": uploads,
                                                 "arrangements": project.arrangements.all()[:RECENT_REQUESTS]}
    return render(request, "studio/project_detail.html", context)


@login_required
@require_GET
def song_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    template = "studio/song_detail.html"
    if request.htmx and request.htmx.target == "transform-form":
        return render(request, template + "#transform-form", song_page_context(request, song))
    context = song_page_context(request, song)
    if song.is_playable:  # its comments are live: a `live` input the page's one poll sends
        context |= list_context(request.user, song, context["can_edit"])
    return render(request, template, context)


@login_required
@require_GET
def song_status(request: HtmxHttpRequest) -> HttpResponse:
    """The page's one poll: the cards whose version moved, as out-of-band swaps.

    204 when nothing changed; 286 (stop polling) once no card on the page is unfinished and
    the page holds no live part (live.py), after the last swaps. Songs the user may not see
    are left out.
    """
    look = request.GET.get("look", "card")
    try:
        asked = cards.parse(request.GET.getlist("card"))
        feeds = live.parse(request.GET.getlist("live"))
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    if look not in cards.LOOKS:
        return HttpResponseBadRequest("Unknown look.")
    songs = access.polled_songs(request.user, asked)
    unreachable = any(song.unreachable for song in songs)
    changed = [song.pk for song in songs if cards.version(song, unreachable) != asked[song.pk]]
    moved = live.stale(request.user, feeds)  # one query per live feed on the page
    keep_polling = feeds or any(not song.is_finished or song.finishing for song in songs)
    status = 200 if keep_polling else HttpResponseStopPolling.status_code
    if not changed and not moved:
        return HttpResponse(status=204 if status == 200 else status)
    editable = {song.project_id for song in songs if access.role_may(song.role, "edit")}
    changed_songs = Song.objects.filter(pk__in=changed).select_related("transform").order_by("pk")
    context = {"songs": changed_songs, "look": look, "unreachable": unreachable, "editable": editable,
               "live_parts": live.render(request, moved)}
    return render(request, "studio/song_status.html", context, status=status)


@login_required
@require_GET
def upload_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    upload = access.get_upload_for(request.user, pk)
    if request.htmx and request.htmx.target == f"upload-status-{upload.pk}":
        response = render(request, "studio/upload_detail.html#upload-status", {"upload": upload})
        if upload.status not in {Upload.Status.PENDING, Upload.Status.PROCESSING}:
            response.status_code = HttpResponseStopPolling.status_code
        if upload.status == Upload.Status.READY:
            response["HX-Refresh"] = "true"  # the player and the transforms appear
        return response
    context = source_context(request, upload, upload.project)
    context |= {"upload": upload, "family": family_node(request.user, upload)}
    template = "studio/upload_detail.html"
    if request.htmx and request.htmx.target == "transform-form":
        template += "#transform-form"
    return render(request, template, context)


def _song_file(request: HtmxHttpRequest, pk: int, as_download: bool) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    if not song.is_playable:
        raise Http404("This song has no audio yet.")
    name = song.download_name() if as_download else None
    return audio_response(request, song.audio, song.audio_format, name)


@login_required
@require_GET
def song_audio(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _song_file(request, pk, as_download=False)


@login_required
@require_GET
def song_download(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _song_file(request, pk, as_download=True)


@login_required
@require_GET
def song_partial(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The part of an unfinished song made so far (the service's preview, copied here)."""
    song = access.get_song_for(request.user, pk)
    if not song.partial or song.is_finished:
        raise Http404("This song has no preview.")
    return audio_response(request, song.partial, song.partial_format, None)


@login_required
@require_GET
def song_cover(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    if not song.cover:
        raise Http404("This song has no cover art.")
    return image_response(song.cover)


@login_required
@require_GET
def upload_audio(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    upload = access.get_upload_for(request.user, pk)
    if not upload.audio:
        raise Http404("This upload has no audio yet.")
    return audio_response(request, upload.audio, upload.audio_format, None)


@login_required
@require_POST
def song_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The retry action of a failed, unconfirmed, lost or timed-out variant: it alone starts over."""
    song = access.get_song_for(request.user, pk, need="edit")
    if song.retry():
        messages.success(request, "Sent again: this variant starts over.")
    else:
        messages.error(request, "This variant cannot be sent again as it is. Use “Reuse settings” to make a new one.")
    return redirect(song)


# WAV and stems: anyone who may see a song may ask for them, viewers too, since they may
# already download its audio; a file is made once and kept, whoever asked first.


def _files_part(request: HtmxHttpRequest, song: Song) -> HttpResponse:
    context = {"song": song} | song_files_context(song)
    status = 200 if context["files_preparing"] else HttpResponseStopPolling.status_code
    return render(request, "studio/song_detail.html#song-files", context, status=status)


@login_required
@require_GET
def song_files(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The song page's downloads part: polled while a file is being prepared; 286 once none is."""
    return _files_part(request, access.get_song_for(request.user, pk))


@login_required
@require_POST
def song_file_ask(request: HtmxHttpRequest, pk: int, kind: str) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    if kind not in SongFile.Kind.values:
        raise Http404("No such download.")
    refused = dialects.reason(f"download_{kind}") or ("" if song.is_playable else "This song has no audio yet.")
    if refused:
        return HttpResponseBadRequest(refused)
    SongFile.objects.ask(song, kind, request.user)
    if request.htmx:
        return _files_part(request, song)
    return redirect(song)


@login_required
@require_GET
def song_file(request: HtmxHttpRequest, pk: int, kind: str) -> HttpResponse:
    """A kept WAV or stems zip, streamed from storage."""
    song = access.get_song_for(request.user, pk)
    kept = SongFile.objects.filter(song=song, kind=kind, status=SongFile.Status.READY).first()
    if kept is None:
        raise Http404("This file has not been prepared; ask for it on the song's page.")
    content_type = "application/zip" if kind == SongFile.Kind.STEMS else "audio/wav"
    return download_response(kept.file, content_type, kept.download_name())
