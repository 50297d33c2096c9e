from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from riffweb.studio import access, mode_views
from riffweb.audio_response import audio_response
from riffweb.studio.forms import ProjectForm
from riffweb.studio.models import Transform

RECENT_REQUESTS = 30


@login_required
@require_GET
def project_list(request):
    projects = access.projects_for(request.user).order_by("name")
    return render(
        request, "studio/project_list.html", {"projects": projects, "form": ProjectForm()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = type(form.instance).create_for(request.user, **form.cleaned_data)
        return redirect(project)
    projects = access.projects_for(request.user).order_by("name")
    return render(request, "studio/project_list.html", {"projects": projects, "form": form})


@login_required
@require_GET
def project_detail(request, pk: int):
    project, membership = access.get_project_for(request.user, pk)
    context = mode_views.generation_context(request, project, membership)
    if request.htmx and request.htmx.target == "transform-form":
        return render(request, "studio/project_detail.html#transform-form", context)
    transforms = (
        project.transforms.prefetch_related("songs")
        .filter(songs__deleted_at__isnull=True)
        .distinct()[:RECENT_REQUESTS]
    )
    uploads = project.uploads.filter(deleted_at__isnull=True)[:RECENT_REQUESTS]
    return render(
        request,
        "studio/project_detail.html",
        context | {"transforms": transforms, "uploads": uploads},
    )


@login_required
@require_POST
def professional_create(request, pk: int):
    return mode_views.generate(request, pk, Transform.Mode.PROFESSIONAL)


def _create_transform(user, project, mode: str, form) -> Transform:
    key = form.cleaned_data["idempotency_key"]
    asked = form.save(commit=False)
    fields = {name: getattr(asked, name) for name in Transform.PARAMETER_FIELDS if name not in {"mode", "dialect"}}
    return Transform.objects.create_request(
        project=project, user=user, mode=mode, fields=fields, key=key, dialect=settings.RIFFWEB_UPSTREAM_DIALECT,
    )


@login_required
@require_GET
def song_detail(request, pk: int):
    song = access.get_song_for(request.user, pk)
    template = "studio/song_detail.html"
    if request.htmx and request.htmx.target == "transform-form":
        template += "#transform-form"
    return render(request, template, mode_views.song_page_context(request, song))


@login_required
@require_GET
def song_status(request, pk: int):
    song = access.get_song_for(request.user, pk)
    response = render(request, "studio/_song.html#song-status", {"song": song})
    if song.is_finished:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _song_file(request, pk: int, as_download: bool) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    if not song.is_playable:
        raise Http404("This song has no audio yet.")
    name = song.download_name() if as_download else None
    return audio_response(request, song.audio, song.audio_format, name)


@login_required
@require_GET
def song_audio(request, pk: int):
    return _song_file(request, pk, as_download=False)


@login_required
@require_GET
def song_download(request, pk: int):
    return _song_file(request, pk, as_download=True)


@login_required
@require_POST
def song_retry(request, pk: int):
    """The retry action of a failed, unconfirmed, lost or timed-out variant: it alone starts over."""
    song = access.get_song_for(request.user, pk, need="edit")
    if song.retry():
        messages.success(request, "Sent again: this variant starts over.")
    else:
        messages.error(request, "This variant cannot be sent again as it is. Use “Reuse settings” to make a new one.")
    return redirect(song)
