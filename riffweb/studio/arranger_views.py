"""The arranger: regions of a project's songs on one lane, previewed in the browser and rendered
by riffweb itself into a new song of the project (Transform.Mode.ARRANGEMENT).

Plain forms with post/redirect/get; a form that does not fit is shown again with its reason
and status 400.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from riffweb.http import HtmxHttpRequest
from riffweb.studio import access
from riffweb.studio.forms import ArrangementForm, RegionChangeForm, RegionForm
from riffweb.studio.models import Arrangement, ArrangementError, Transform

MOVES = {"up": -1, "down": 1}


def _page(request: HtmxHttpRequest, arrangement: Arrangement, form=None, error: str = "", status: int = 200):
    lane = arrangement.lane()
    can_edit = access.can(request.user, arrangement.project_id, "edit")
    renders = (Transform.objects.filter(arrangement=arrangement).prefetch_related("songs")
               .order_by("-created_at")[:10])
    return render(request, "studio/arrangement_detail.html", {
        "arrangement": arrangement, "project": arrangement.project, "lane": lane, "can_edit": can_edit,
        "form": form or RegionForm(project=arrangement.project), "error": error, "renders": renders,
        "length": arrangement.length(lane), "problems": arrangement.problems(lane) if lane else [],
        "render_key": uuid.uuid4(),
    }, status=status)


@login_required
@require_POST
def arrangement_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, _ = access.get_project_for(request.user, pk, need="edit")
    form = ArrangementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the arrangement a name (one line).")
        return redirect(project)
    arrangement = Arrangement.objects.create(project=project, name=form.cleaned_data["name"], created_by=request.user)
    return redirect(arrangement)


@login_required
@require_GET
def arrangement_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _page(request, access.get_arrangement_for(request.user, pk))


@login_required
@require_POST
def region_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    arrangement = access.get_arrangement_for(request.user, pk, need="edit")
    form = RegionForm(request.POST, project=arrangement.project)
    if not form.is_valid():
        return _page(request, arrangement, form, status=400)
    data = form.cleaned_data
    try:
        arrangement.add_region(data["song"], data["start"], data["end"], data["crossfade"])
    except ArrangementError as exc:
        return _page(request, arrangement, form, error=str(exc), status=400)
    return redirect(arrangement)


@login_required
@require_POST
def region_change(request: HtmxHttpRequest, pk: int, region_pk: int) -> HttpResponse:
    """One region's buttons: save its bounds, move it along the lane, or take it off."""
    region = access.get_region_for(request.user, pk, region_pk, need="edit")
    arrangement, action = region.arrangement, request.POST.get("action", "save")
    if action == "remove":
        region.delete()
    elif action in MOVES:
        arrangement.move(region, MOVES[action])
    else:
        form = RegionChangeForm(request.POST)
        if not form.is_valid():
            return _page(request, arrangement, error="Give the region a start, an end and a crossfade in seconds.",
                         status=400)
        try:
            region.change(form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["crossfade"])
        except ArrangementError as exc:
            return _page(request, arrangement, error=str(exc), status=400)
    return redirect(arrangement)


@login_required
@require_POST
def arrangement_render(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    arrangement = access.get_arrangement_for(request.user, pk, need="edit")
    try:
        key = uuid.UUID(request.POST.get("idempotency_key", ""))
        made = Transform.objects.create_render(arrangement, request.user, key)
    except ArrangementError as exc:
        return _page(request, arrangement, error=str(exc), status=400)
    except ValueError:  # a missing or bad key, or one another project's form used (KeyInUse)
        return _page(request, arrangement, error="Reload the page and render again.", status=400)
    messages.success(request, f"Mixing “{arrangement.name}”: the song appears here when it is ready.")
    return redirect(made.songs.get(variant=0))
