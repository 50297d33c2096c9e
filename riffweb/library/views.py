"""The library: every song a user may hear, across projects; bulk actions, zip export, trash."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from riffweb.http import HtmxHttpRequest
from riffweb.library import paging
from riffweb.library.export import write_zip
from riffweb.library.forms import (
    BulkForm, LabelsForm, LibraryFilterForm, MoveForm, RenameForm, SongIdsField,
)
from riffweb.playlists import access as playlist_access
from riffweb.studio import access, search
from riffweb.studio.models import Song
from riffweb.studio.page_context import cards_context
from riffweb.takes import models as takes

PAGE_SIZE = paging.PAGE_SIZE
# What a library row shows: no lyrics, peaks or operator details to load and decode. The
# status and what its one sentence and version come from, for the page's status poll.
ROW_FIELDS = [
    "title", "variant", "status", "duration", "tags", "labels", "created_at", "deleted_at", "cover", "api_style",
    "progress", "failure", "error", "changed_at", "submitted_at", "last_progress_at", "finishing", "keepers", "maybes", "rejects",
    "project__name", "transform__title", "transform__topic", "transform__mode",
]


def _favourite_of(user):
    return Exists(Song.favourited_by.through.objects.filter(song_id=OuterRef("pk"), user_id=user.pk))


def _menus(memberships) -> dict:
    """What each row may offer: edit controls where the user edits, and where songs may move."""
    return {
        "editable": {m.project_id for m in memberships if m.can_edit},
        "move_targets": [m.project for m in memberships if m.can_edit],
    }


def _day_start(day: date, days_after: int = 0) -> datetime:
    """Midnight at the start of `day` (or as many days after) in the current time zone. A date
    filter is a range of created_at that the library's indexes seek (`created_at__date` computed
    every song's date: at 100,000 songs SQLite took 86 ms a page). Days far outside any song's
    life are brought in, so that no typed year overflows a datetime in conversion."""
    day = min(max(day, date(1970, 1, 2)), date(9999, 12, 1)) + timedelta(days=days_after)
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(songs, form: LibraryFilterForm, user):
    data = form.cleaned_data if form.is_valid() else {}
    if q := data.get("q"):
        songs = search.matching(songs, q)
    if data.get("project"):
        songs = songs.filter(project_id=data["project"])
    if data.get("mode"):
        songs = songs.filter(mode=data["mode"])
    if data.get("status"):
        songs = songs.filter(status=data["status"])
    if data.get("favourites"):
        songs = songs.filter(favourited_by=user)
    if data.get("since"):
        songs = songs.filter(created_at__gte=_day_start(data["since"]))
    if data.get("until"):
        songs = songs.filter(created_at__lt=_day_start(data["until"], days_after=1))
    if data.get("takes"):
        songs = takes.filtered(songs, data["takes"], user)
    order = LibraryFilterForm.SORTS.get(data.get("sort") or "newest")
    return paging.ordered(songs, order), order


def _page(request, songs, order, user, searching: bool) -> tuple[paging.SongPage, str]:
    """One page of songs in two steps: the ids (a narrow query the song_library_recent index
    covers, sought from the previous page's last song so deep pages stay cheap), then those
    rows with what each row shows."""
    query = request.GET.copy()
    for name in ("page", "after", "before"):
        query.pop(name, None)
    page = paging.page_of(songs, order, request.GET, query.urlencode(), searching)
    rows = (
        takes.with_tally(Song.objects.filter(pk__in=page.ids), user)
        .select_related("project", "transform")
        .only(*ROW_FIELDS)
        .annotate(is_favourite=_favourite_of(user))
        .in_bulk()
    )
    page.object_list = [rows[pk] for pk in page.ids]
    return page, query.urlencode()


@login_required
@require_GET
def song_list(request: HtmxHttpRequest) -> HttpResponse:
    memberships = access.memberships_of(request.user)
    form = LibraryFilterForm(request.GET, memberships=memberships)
    songs, order = _filtered(access.songs_for(request.user), form, request.user)
    searching = bool(form.is_valid() and form.cleaned_data["q"])
    page, query = _page(request, songs, order, request.user, searching)
    template = "library/song_list.html"
    if request.htmx and request.htmx.target == "song-list":
        template += "#song-list"
    context = {"form": form, "page": page, "query": query, **_menus(memberships),
               "bulk_form": BulkForm(memberships=memberships), "next": request.get_full_path(),
               # The rows' flags, unset: a name missing from the context costs every row a failed
               # look-up (three exceptions in the template engine), ~7 % of the list's rendering.
               "editing": False, "error": None, "notice": None, "oob": False}
    context |= cards_context(page.object_list, context["editable"])
    return render(request, template, context)


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return "library:song_list"


def _row(request: HtmxHttpRequest, song: Song, **extra) -> HttpResponse:
    """After a change to one song: its row for htmx, back to where the user was otherwise."""
    if not request.htmx:
        for error in extra.get("error") or []:
            messages.error(request, f"{song.display_title}: {error}")
        return redirect(_next_url(request))
    song.is_favourite = song.favourited_by.filter(pk=request.user.pk).exists()
    takes.tally(song, request.user)
    context = {"song": song, "next": _next_url(request), **_menus(access.memberships_of(request.user)),
               **extra}
    return render(request, "library/song_list.html#song-row", context)


@login_required
@require_GET
def song_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A row opened for editing: rename, tags, move, trash."""
    song = access.get_song_for(request.user, pk, need="edit")
    song.is_favourite = song.favourited_by.filter(pk=request.user.pk).exists()
    takes.tally(song, request.user)
    template = "library/song_edit.html"
    if request.htmx:
        template += "#song-row"
    next_url = _next_url(request)
    context = {"song": song, "next": next_url if next_url.startswith("/") else reverse("library:song_list"),
               **_menus(access.memberships_of(request.user))}
    return render(request, template, context)


@login_required
@require_POST
def song_rename(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit")
    form = RenameForm(request.POST)
    if form.is_valid():
        song.title = form.cleaned_data["title"]
        song.save(update_fields=["title"])
    return _row(request, song, error=form.errors.get("title"))


@login_required
@require_POST
def song_labels(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit")
    form = LabelsForm(request.POST)
    if form.is_valid():
        song.labels = form.cleaned_data["labels"]
        song.save(update_fields=["labels"])
    return _row(request, song, error=form.errors.get("labels"))


@login_required
@require_POST
def song_favourite(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Favourites are each person's own, so listening is enough; the value is explicit (idempotent)."""
    song = access.get_song_for(request.user, pk)
    if request.POST.get("favourite") == "1":
        song.favourited_by.add(request.user)
    else:
        song.favourited_by.remove(request.user)
    return _row(request, song)


@login_required
@require_POST
def song_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit")
    form = MoveForm(request.POST, memberships=access.memberships_of(request.user))
    if not form.is_valid():
        return _row(request, song, error=form.errors.get("project"))
    target, _ = access.get_project_for(request.user, form.cleaned_data["project"], need="edit")
    song.move_to(target)
    return _row(request, song, notice=f"Moved to {target.name}.")


@login_required
@require_POST
def song_trash(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit")
    song.trash()
    return _row(request, song)


@login_required
@require_POST
def song_restore(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit", include_trashed=True)
    song.restore()
    return _row(request, song)


@login_required
@require_POST
def bulk(request: HtmxHttpRequest) -> HttpResponse:
    memberships = access.memberships_of(request.user)
    form = BulkForm(request.POST, memberships=memberships)
    if not form.is_valid():
        return _bulk_done(request, errors=[e for errs in form.errors.values() for e in errs])
    action, ids = form.cleaned_data["action"], form.cleaned_data["songs"]
    need = "view" if action in {"favourite", "unfavourite"} else "edit"
    songs = access.get_songs_for(request.user, ids, need=need)
    if action == "move":
        target, _ = access.get_project_for(request.user, form.cleaned_data["project"], need="edit")
    if action == "playlist":
        return _add_to_playlist(request, form.cleaned_data["playlist"], songs)
    for song in songs:
        if action == "favourite":
            song.favourited_by.add(request.user)
        elif action == "unfavourite":
            song.favourited_by.remove(request.user)
        elif action == "tag":
            song.labels = LabelsForm.join(song.labels, form.cleaned_data["label"])
            song.save(update_fields=["labels"])
        elif action == "move":
            song.move_to(target)
        elif action == "trash":
            song.trash()
    return _bulk_done(request, notice=f"{dict(BulkForm.ACTIONS)[action]}: {len(songs)} song(s).")


def _add_to_playlist(request: HtmxHttpRequest, pk: int, songs: list[Song]) -> HttpResponse:
    playlist = playlist_access.get_playlist_for(request.user, pk, need="edit")
    elsewhere = [song.display_title for song in songs if song.project_id != playlist.project_id]
    if elsewhere:
        return _bulk_done(request, errors=[f"Only songs of “{playlist.project}” go in {playlist.name}: "
                                           f"{', '.join(elsewhere)} {'is' if len(elsewhere) == 1 else 'are'} not."])
    try:
        for song in songs:
            playlist.add(song, by=request.user)
    except ValidationError as error:
        return _bulk_done(request, errors=error.messages)
    return _bulk_done(request, notice=f"Added {len(songs)} song(s) to {playlist.name}.")


def _bulk_done(request: HtmxHttpRequest, notice: str = "", errors=()) -> HttpResponse:
    """Post/redirect/get back to the same filtered view (htmx follows it and swaps the list)."""
    for error in errors:
        messages.error(request, error)
    if notice:
        messages.success(request, notice)
    return redirect(_next_url(request))


@login_required
@require_POST
def download_zip(request: HtmxHttpRequest) -> HttpResponse:
    try:
        ids = SongIdsField(error_messages={"required": "Tick the songs to download first."}).clean(
            request.POST.getlist("songs"))
    except ValidationError as error:
        return _bulk_done(request, errors=error.messages)
    songs = access.get_songs_for(request.user, ids)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    visible = set(access.projects_for(request.user).values_list("pk", flat=True))
    return FileResponse(write_zip(songs, visible), as_attachment=True, filename=f"riffweb-songs-{stamp}.zip",
                        content_type="application/zip")


@login_required
@require_GET
def trash(request: HtmxHttpRequest) -> HttpResponse:
    memberships = access.memberships_of(request.user)
    songs = access.trashed_songs_for(request.user).select_related("project", "transform").order_by(
        "-deleted_at", "-pk")
    page = Paginator(songs, PAGE_SIZE).get_page(request.GET.get("page"))
    purge_after = timedelta(days=settings.RIFFWEB_TRASH_DAYS)
    context = {"page": page, "purge_after": purge_after, **_menus(memberships),
               "next": request.get_full_path()}
    return render(request, "library/trash.html", context)
