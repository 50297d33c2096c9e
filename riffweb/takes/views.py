"""Marking takes (keeper, maybe, reject) and the project's shortlist of keepers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from riffweb.http import HtmxHttpRequest, back_to
from riffweb.ordering import OrderForm
from riffweb.studio import access
from riffweb.takes.forms import TakeForm
from riffweb.takes.models import ShortlistSpot, Take, tally


@login_required
@require_POST
def take(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Every member votes, viewers too: reviewing is what a listener does."""
    song = access.get_song_for(request.user, pk)
    form = TakeForm(request.POST)
    if form.is_valid():
        Take.objects.cast(song, request.user, form.cleaned_data["mark"])
    elif not request.htmx:
        messages.error(request, "Mark a take keeper, maybe or reject.")
    if not request.htmx:
        return back_to(request, song)
    context = {"song": tally(song, request.user), "next": request.POST.get("next", ""),
               "error": "" if form.is_valid() else "Mark a take keeper, maybe or reject."}
    return render(request, "takes/_take.html", context)


def _shortlist_context(request, project, membership, **extra) -> dict:
    songs = ShortlistSpot.objects.for_project(project, request.user)
    return {"project": project, "membership": membership, "songs": songs, **extra}


@login_required
@require_GET
def shortlist(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk)
    return render(request, "takes/shortlist.html", _shortlist_context(request, project, membership))


@login_required
@require_POST
def shortlist_order(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Editors put the keepers in order: a dragged list's whole order, or one step up or down."""
    project, membership = access.get_project_for(request.user, pk, need="edit")
    form = OrderForm(request.POST)
    error = ""
    if form.is_valid():
        current = [song.pk for song in ShortlistSpot.objects.for_project(project, request.user)]
        ShortlistSpot.objects.place(form.arrange(current))
    else:
        error = " ".join(form.non_field_errors()) or "Choose a song and move it up or down."
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("takes:shortlist", project.pk)
    context = _shortlist_context(request, project, membership, error=error)
    return render(request, "takes/shortlist.html#shortlist", context)
