"""The studio's forms: every creation mode, uploads, and the transforms of a song or upload.

Each form posts here and re-renders its own fragment (`#transform-form`) from its page's
template, with the context page_context.py builds for that page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from riffweb import queue
from riffweb.http import HtmxHttpRequest
from riffweb.review import feeds
from riffweb.studio import access, tasks
from riffweb.studio.models import KeyInUse, Transform, Upload
from riffweb.studio.modes import FORMS, TRANSFORM_MODES, SourceTransformForm, UploadForm, upload_unavailable_reason
from riffweb.studio.page_context import UPLOAD, generation_context, new_key, source_context, source_ready_reason
from riffweb.upstream import dialects


KEY_IN_USE = "This form was already sent from another project. Reload the page to send it here."


def _create_transform(request: HtmxHttpRequest, project, mode: str, form) -> Transform | None:
    """The request the form asks for, or None with the form's error (its key is another project's).
    The form's hints (a lyrics marker the service may not know) go to the page that follows."""
    asked = form.save(commit=False)
    fields = {name: getattr(asked, name) for name in Transform.PARAMETER_FIELDS if name not in {"mode", "dialect"}}
    fields["palette"] = project.palettes.filter(pk=form.cleaned_data.get("palette")).first()
    try:
        created = Transform.objects.create_request(
            project=project, user=request.user, mode=mode, fields=fields, key=form.cleaned_data["idempotency_key"],
            dialect=settings.RIFFWEB_UPSTREAM_DIALECT,
        )
    except KeyInUse:
        form.add_error(None, KEY_IN_USE)
        return None
    for hint in form.hints:
        messages.info(request, hint)
    return created


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
    elif form.is_valid() and (created := _create_transform(request, project, mode, form)):
        if not request.htmx:
            return redirect(project)
        form = FORMS[mode](dialect=settings.RIFFWEB_UPSTREAM_DIALECT, initial=new_key())
    context = generation_context(request, project, membership, mode, form, created)
    context["editable"] = {project.pk}  # for the new request's cards
    status = 400 if KEY_IN_USE in form.non_field_errors() else 200
    return render(request, "studio/project_detail.html#transform-form", context, status=status)


@login_required
@require_POST
def professional_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return generate(request, pk, Transform.Mode.PROFESSIONAL)


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


def _transform(request: HtmxHttpRequest, source, mode: str, template: str) -> HttpResponse:
    if mode not in TRANSFORM_MODES:
        raise Http404("No such transform.")
    project = source.project
    form = SourceTransformForm(
        request.POST, mode=mode, source=source, dialect=settings.RIFFWEB_UPSTREAM_DIALECT
    )
    created = None
    if form.is_valid() and (dialects.reason(mode) or source_ready_reason(source)):
        form.add_error(None, dialects.reason(mode) or source_ready_reason(source))
    elif form.is_valid() and (created := _create_transform(request, project, mode, form)):
        if answering := feeds.answering(request, source):
            answering.answer_with(created)
        if not request.htmx:
            return redirect(created.songs.order_by("variant").first())
        form = None
    context = source_context(request, source, project, mode, form, created)
    status = 400 if form is not None and KEY_IN_USE in form.non_field_errors() else 200
    return render(request, template + "#transform-form", context, status=status)


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
