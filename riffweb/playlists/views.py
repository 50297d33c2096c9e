"""Playlists: made and arranged by editors, played by every member through a queue player, shared
through listen-only guest links, exported as a zip in order; and where each listener stopped."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from riffweb.audio_response import listen_only_response
from riffweb.http import HtmxHttpRequest, back_to
from riffweb.library.export import write_zip
from riffweb.ordering import OrderForm
from riffweb.playlists.forms import AddSongForm, PlaylistForm, PlaylistLinkForm, PositionForm
from riffweb.playlists.models import ListenPosition, Playlist, PlaylistLink
from riffweb.review.models import Activity
from riffweb.playlists import access as playlist_access
from riffweb.studio import access


@login_required
@require_GET
def playlist_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk)
    context = {"project": project, "membership": membership, "form": PlaylistForm(),
               "playlists": project.playlists.all()}
    return render(request, "playlists/playlist_list.html", context)


@login_required
@require_POST
def playlist_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk, need="edit")
    form = PlaylistForm(request.POST, instance=Playlist(project=project, created_by=request.user))
    if not form.is_valid():
        context = {"project": project, "membership": membership, "form": form, "playlists": project.playlists.all()}
        return render(request, "playlists/playlist_list.html", context, status=400)
    playlist = form.save()
    Activity.objects.record(project, request.user, Activity.Verb.MADE_PLAYLIST, playlist)
    return redirect(playlist)


def _detail_context(request, playlist, **extra) -> dict:
    can_edit = access.can(request.user, playlist.project_id, "edit")
    links = playlist.guest_links.order_by("-created_at") if can_edit else []
    return {
        "playlist": playlist, "songs": playlist.songs(), "can_edit": can_edit,
        "resume": ListenPosition.objects.of_playlist(request.user, playlist),
        "links": [(link, request.build_absolute_uri(link.get_absolute_url())) for link in links],
        "link_form": PlaylistLinkForm(), **extra,
    }


@login_required
@require_GET
def playlist_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    playlist = playlist_access.get_playlist_for(request.user, pk)
    return render(request, "playlists/playlist_detail.html", _detail_context(request, playlist))


def _entries(request: HtmxHttpRequest, playlist, error: str = "") -> HttpResponse:
    """After an editor's change: the list for htmx, the page otherwise."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(playlist)
    return render(request, "playlists/playlist_detail.html#playlist-entries",
                  _detail_context(request, playlist, error=error))


@login_required
@require_POST
def playlist_add(request: HtmxHttpRequest) -> HttpResponse:
    """Add a song of the playlist's project to it (from the song page)."""
    form = AddSongForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(e for errors in form.errors.values() for e in errors))
    playlist = playlist_access.get_playlist_for(request.user, form.cleaned_data["playlist"], need="edit")
    song = access.get_song_for(request.user, form.cleaned_data["song"])
    try:
        playlist.add(song, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Added “{song.display_title}” to {playlist.name}.")
    return back_to(request, playlist)


@login_required
@require_POST
def playlist_remove(request: HtmxHttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    playlist = playlist_access.get_playlist_for(request.user, pk, need="edit")
    if not playlist.remove(entry_pk, by=request.user):
        raise Http404("No such song in this playlist.")
    return _entries(request, playlist)


@login_required
@require_POST
def playlist_order(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A dragged list's whole order, or one song a step up or down (the keyboard's way)."""
    playlist = playlist_access.get_playlist_for(request.user, pk, need="edit")
    form = OrderForm(request.POST)
    if not form.is_valid():
        return _entries(request, playlist, error=" ".join(form.non_field_errors()))
    playlist.arrange(form.arrange(playlist.entry_ids()), by=request.user)
    return _entries(request, playlist)


@login_required
@require_POST
def playlist_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    playlist = playlist_access.get_playlist_for(request.user, pk, need="edit")
    playlist.discard(by=request.user)
    messages.success(request, f"Playlist “{playlist.name}” deleted; its songs stay in the project.")
    return redirect("playlists:playlist_list", playlist.project_id)


@login_required
@require_GET
def playlist_download(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The playlist as a zip, its songs numbered in order, each with its JSON sidecar."""
    playlist = playlist_access.get_playlist_for(request.user, pk)
    visible = set(access.projects_for(request.user).values_list("pk", flat=True))
    name = f"{slugify(playlist.name) or 'playlist'}-{timezone.now():%Y%m%d-%H%M}.zip"
    return FileResponse(write_zip(playlist.songs(), visible, numbered=True), as_attachment=True, filename=name,
                        content_type="application/zip")


@login_required
@require_POST
def song_position(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    form = PositionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Send where you stopped, in seconds (at).")
    ListenPosition.objects.remember(request.user, song, form.cleaned_data["at"])
    return HttpResponse(status=204)


@login_required
@require_POST
def playlist_position(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    playlist = playlist_access.get_playlist_for(request.user, pk)
    form = PositionForm(request.POST)
    song = None
    if form.is_valid():
        song = next((s for s in playlist.songs() if s.pk == form.cleaned_data["song"]), None)
    if song is None:
        return HttpResponseBadRequest("Send where you stopped (at, in seconds) in which of the playlist's songs.")
    ListenPosition.objects.remember(request.user, song, form.cleaned_data["at"], playlist=playlist)
    return HttpResponse(status=204)


@login_required
@require_POST
def playlist_link_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    playlist = playlist_access.get_playlist_for(request.user, pk, need="edit")
    form = PlaylistLinkForm(request.POST)
    if form.is_valid():
        PlaylistLink.objects.create(playlist=playlist, **form.link_fields(request.user))
        messages.success(request, "Guest link made: anyone holding it may listen.")
    else:
        messages.error(request, "Choose when the link expires.")
    return redirect(f"{playlist.get_absolute_url()}#sharing")


@login_required
@require_POST
def playlist_link_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    link = playlist_access.get_playlist_link_for(request.user, pk, need="edit")
    link.revoke()
    messages.success(request, "Guest link revoked: it plays nothing any more.")
    return redirect(f"{link.playlist.get_absolute_url()}#sharing")


@require_GET
def guest_playlist(request: HtmxHttpRequest, token: str) -> HttpResponse:
    playlist, link = playlist_access.get_playlist_by_guest_token(token)
    songs = [song for song in playlist.songs() if song.is_playable]
    response = render(request, "playlists/guest_playlist.html", {"playlist": playlist, "link": link, "songs": songs})
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def guest_playlist_audio(request: HtmxHttpRequest, token: str, song_pk: int) -> HttpResponse:
    """A song of the playlist, listen-only (its preview, never the master)."""
    playlist, _ = playlist_access.get_playlist_by_guest_token(token)
    song = playlist.song(song_pk)
    if song is None or not song.is_playable:
        raise Http404("Nothing to play here.")
    response = listen_only_response(request, song)
    response["X-Robots-Tag"] = "noindex"
    return response
