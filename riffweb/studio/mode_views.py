"""Every creation mode as an htmx form, uploads, the waveform players and a song's family.

The project page offers the generation modes and uploads; a song or upload page offers the
five transforms of that source, next to its waveform. Each form posts here and re-renders its
own fragment (`#transform-form`) from the page's template.
"""

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from riffweb.audio import AudioError, decode, peaks
from riffweb import queue
from riffweb.studio import access, tasks
from riffweb.studio import views as studio_views
from riffweb.audio_response import audio_response
from riffweb.studio.models import Transform, Upload
from riffweb.studio.modes import (
    DESCRIPTIONS, FORMS, GENERATION_MODES, TRANSFORM_MODES, SourceTransformForm, UploadForm,
    initial_from, upload_unavailable_reason,
)
from riffweb.upstream import dialects

UPLOAD = "upload"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails

FAMILY_LIMIT = 300  # nodes drawn in a family tree


def _tabs(modes) -> list[dict]:
    labels = dict(Transform.Mode.choices) | {UPLOAD: "Upload"}
    return [
        {"mode": m, "label": labels[m],
         "reason": upload_unavailable_reason() if m == UPLOAD else dialects.reason(m)}
        for m in modes
    ]


def _reused(request) -> dict:
    """Initial data from ?reuse=<request id>, when the user may see that request."""
    pk = request.GET.get("reuse", "")
    if not pk.isdigit():
        return {}
    return initial_from(access.get_transform_for(request.user, int(pk)))


def _new_key() -> dict:
    return {"idempotency_key": uuid.uuid4()}


# --- generation modes and uploads, on the project page ---------------------------------------


def generation_context(request, project, membership, mode=None, form=None, created=None) -> dict:
    mode = mode or request.GET.get("mode") or Transform.Mode.PROFESSIONAL
    if mode not in FORMS and mode != UPLOAD:
        mode = Transform.Mode.PROFESSIONAL
    if form is None and mode == UPLOAD:
        form = UploadForm()
    elif form is None:
        form = FORMS[mode](dialect=settings.RIFFWEB_UPSTREAM_DIALECT, initial=_reused(request) | _new_key())
    tabs = _tabs([*GENERATION_MODES, UPLOAD])
    if mode == UPLOAD:
        action = reverse("studio:upload_create", args=[project.pk])
    elif mode == Transform.Mode.PROFESSIONAL:
        action = reverse("studio:professional_create", args=[project.pk])
    else:
        action = reverse("studio:generate", args=[project.pk, mode])
    return {
        "project": project, "membership": membership, "mode": mode, "form": form, "created": created,
        "action": action,
        "tabs": tabs, "mode_reason": next(t["reason"] for t in tabs if t["mode"] == mode),
        "mode_description": DESCRIPTIONS.get(mode, "An mp3, m4a or wav of your own to transform."),
    }


@login_required
@require_POST
def generate(request: HtmxHttpRequest, pk: int, mode: str) -> HttpResponse:
    if mode not in FORMS:
        raise Http404("No such mode.")
    project, membership = access.get_project_for(request.user, pk, need="edit")
    form = FORMS[mode](request.POST, dialect=settings.RIFFWEB_UPSTREAM_DIALECT)
    created = None
    if form.is_valid() and dialects.reason(mode):
        form.add_error(None, dialects.reason(mode))
    elif form.is_valid():
        created = studio_views._create_transform(request.user, project, mode, form)
        if not request.htmx:
            return redirect(project)
        form = FORMS[mode](dialect=settings.RIFFWEB_UPSTREAM_DIALECT, initial=_new_key())
    context = generation_context(request, project, membership, mode, form, created)
    return render(request, "studio/project_detail.html#transform-form", context)


@login_required
@require_POST
def upload_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk, need="edit")
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid() and upload_unavailable_reason():
        form.add_error(None, upload_unavailable_reason())
    elif form.is_valid():
        upload = _store_upload(request.user, project, form.cleaned_data)
        if request.htmx:
            return HttpResponseClientRedirect(upload.get_absolute_url())
        return redirect(upload)
    context = generation_context(request, project, membership, UPLOAD, form)
    return render(request, "studio/project_detail.html#transform-form", context)


def _store_upload(user, project, data) -> Upload:
    upload = Upload(project=project, created_by=user, title=data["title"])
    if data.get("file"):
        file = data["file"]
        upload.audio_format, upload.duration = file.riffweb_format, file.riffweb_duration
        upload.peaks = file.riffweb_peaks
        upload.audio.save(f"upload.{file.riffweb_format}", file, save=False)
        upload.save()
        transaction.on_commit(lambda: queue.send_upload(upload.pk))
    else:
        upload.source_url = data["url"]
        upload.save()
        transaction.on_commit(lambda: tasks.enqueue_fetch(upload.pk))
    return upload


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


@login_required
@require_GET
def upload_audio(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    upload = access.get_upload_for(request.user, pk)
    if not upload.audio:
        raise Http404("This upload has no audio yet.")
    return audio_response(request, upload.audio, upload.audio_format, None)


# --- transforms of a song or an upload ------------------------------------------------------


def ensure_peaks(obj) -> list[float]:
    """A song's or upload's waveform, computed once from our stored audio and kept on the row."""
    if obj.peaks or not obj.audio:
        return obj.peaks
    try:
        with obj.audio.open("rb") as handle:
            obj.peaks = peaks(decode(handle.read()).samples)
    except (AudioError, OSError):
        return []
    type(obj).objects.filter(pk=obj.pk).update(peaks=obj.peaks)
    return obj.peaks


def source_ready_reason(source) -> str:
    if isinstance(source, Upload):
        if source.status != Upload.Status.READY:
            return f"This upload is not ready to transform ({source.get_status_display().lower()})."
        return ""
    if not source.is_playable:
        return "This song has not finished, so it cannot be transformed yet."
    return ""


def source_context(request, source, project, mode=None, form=None, created=None) -> dict:
    mode = mode or request.GET.get("mode") or Transform.Mode.COVER
    if mode not in TRANSFORM_MODES:
        mode = Transform.Mode.COVER
    if form is None:
        form = SourceTransformForm(
            mode=mode, source=source, dialect=settings.RIFFWEB_UPSTREAM_DIALECT,
            initial=_reused(request) | _new_key(),
        )
    tabs = _tabs(TRANSFORM_MODES)
    return {
        "source": source, "project": project, "mode": mode, "form": form, "created": created,
        "tabs": tabs, "mode_reason": next(t["reason"] for t in tabs if t["mode"] == mode),
        "mode_description": DESCRIPTIONS[mode], "source_reason": source_ready_reason(source),
        "can_edit": access.can(request.user, project.pk, "edit"),
        "peaks": ensure_peaks(source) if source.audio else [],
        "action": _transform_url(source, mode),
        "source_kind": "upload" if isinstance(source, Upload) else "song",
    }


def _transform_url(source, mode) -> str:
    name = "studio:upload_transform" if isinstance(source, Upload) else "studio:song_transform"
    return reverse(name, args=[source.pk, mode])


def _transform(request, source, mode: str, template: str):
    if mode not in TRANSFORM_MODES:
        raise Http404("No such transform.")
    project = source.project
    form = SourceTransformForm(
        request.POST, mode=mode, source=source, dialect=settings.RIFFWEB_UPSTREAM_DIALECT
    )
    created = None
    if form.is_valid() and (dialects.reason(mode) or source_ready_reason(source)):
        form.add_error(None, dialects.reason(mode) or source_ready_reason(source))
    elif form.is_valid():
        created = studio_views._create_transform(request.user, project, mode, form)
        if not request.htmx:
            return redirect(created.songs.order_by("variant").first())
        form = None
    context = source_context(request, source, project, mode, form, created)
    return render(request, template + "#transform-form", context)


@login_required
@require_POST
def song_transform(request: HtmxHttpRequest, pk: int, mode: str) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit")
    return _transform(request, song, mode, "studio/song_detail.html")


@login_required
@require_POST
def upload_transform(request: HtmxHttpRequest, pk: int, mode: str) -> HttpResponse:
    upload = access.get_upload_for(request.user, pk, need="edit")
    return _transform(request, upload, mode, "studio/upload_detail.html")


# --- a song's page: its variants side by side, its family -----------------------------------


def song_page_context(request, song) -> dict:
    variants = list(song.transform.songs.filter(deleted_at__isnull=True).order_by("variant"))
    for variant in variants:
        if variant.is_playable:
            ensure_peaks(variant)
    context = source_context(request, song, song.project)
    context |= {
        "song": song, "variants": variants,
        "siblings": [v for v in variants if v.pk != song.pk],
        "family": family_tree(request.user, song), "reuse_url": reuse_url(song.transform),
    }
    return context


@login_required
@require_GET
def song_player(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One variant's player; polled while the song is unfinished, then 286."""
    song = access.get_song_for(request.user, pk)
    if song.is_playable:
        ensure_peaks(song)
    response = render(request, "studio/_player.html#song-player", {"variant": song})
    if song.is_finished:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def reuse_url(transform: Transform) -> str:
    if transform.mode in GENERATION_MODES:
        url = reverse("studio:project_detail", args=[transform.project_id])
    elif transform.source_song_id:
        url = reverse("studio:song_detail", args=[transform.source_song_id])
    elif transform.source_upload_id:
        url = reverse("studio:upload_detail", args=[transform.source_upload_id])
    else:
        return ""
    return f"{url}?mode={transform.mode}&reuse={transform.pk}#transform-form"


def family_tree(user, song) -> dict:
    """The whole family of a song: from its oldest ancestor down, as nested nodes.

    A node is {"item": song or upload, "requests": [{"transform", "songs": [node, …]}]}.
    Only songs the user may see are drawn. One query per ancestor and one per generation
    below the root, so the page's cost follows the family's depth, never the library's size.
    """
    visible = access.songs_for(user).select_related("transform")
    root, seen = song, {song.pk}
    while root.transform.source_song_id and root.transform.source_song_id not in seen:
        parent = visible.filter(pk=root.transform.source_song_id).first()
        if parent is None:
            break
        seen.add(parent.pk)
        root = parent
    if root.transform.source_upload_id:
        upload = Upload.objects.filter(
            pk=root.transform.source_upload_id,
            deleted_at__isnull=True,
            project__in=access.projects_for(user).values("pk"),
        ).first()
        if upload is not None:
            return family_node(user, upload)
    return family_node(user, root)


def family_node(user, item) -> dict:
    """A song or upload with everything made from it, as nested nodes (see family_tree).

    Loads a generation per query; the walk stops after FAMILY_LIMIT nodes.
    """
    is_upload = isinstance(item, Upload)
    top = {"item": item, "is_upload": is_upload, "requests": []}
    visible = access.songs_for(user).select_related("transform")
    visible = visible.order_by("transform__created_at", "transform_id", "variant")
    children = visible.filter(transform__source_upload=item) if is_upload else None
    level, budget = {item.pk: top}, FAMILY_LIMIT
    while level and budget > 0:
        if children is None:
            children = visible.filter(transform__source_song__in=list(level))
        requests, next_level = {}, {}
        for child in children[:budget]:
            request = requests.get(child.transform_id)
            if request is None:
                request = requests[child.transform_id] = {"transform": child.transform, "songs": []}
                parent_id = child.transform.source_upload_id if is_upload else child.transform.source_song_id
                level[parent_id]["requests"].append(request)
            node = next_level[child.pk] = {"item": child, "requests": []}
            request["songs"].append(node)
        budget -= len(next_level)
        level, children, is_upload = next_level, None, False
    return top
