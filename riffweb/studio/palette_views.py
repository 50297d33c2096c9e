"""Palettes: a project's named style tags, sound prompts and slider values.

"Save as palette" posts the mode form it sits in to palette_create; "Apply" is a link to the
page with ?palette=<id>, which fills the form (page_context._paletted). Editors save, change and
delete palettes; every member may look at them.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from riffweb.http import HtmxHttpRequest
from riffweb.studio import access
from riffweb.studio.forms import PaletteForm
from riffweb.studio.models import Palette
from riffweb.studio.modes import FORMS, TRANSFORM_MODES


def _back(request: HtmxHttpRequest, project, palette: Palette | None) -> HttpResponse:
    """To the page whose form was saved, in the same mode, with the palette applied."""
    page = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}) or not page.startswith("/"):
        page = project.get_absolute_url()
    mode = request.POST.get("mode", "")
    query = f"?mode={mode}" if mode in FORMS or mode in TRANSFORM_MODES else "?"
    url = f"{page}{query}&palette={palette.pk}#transform-form" if palette else f"{page}{query}#transform-form"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def palette_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, _ = access.get_project_for(request.user, pk, need="edit")
    form = PaletteForm(request.POST)
    if not form.is_valid():
        errors = " ".join(e for field in form.errors.values() for e in field)
        if request.htmx:
            messages.error(request, f"The palette was not saved: {errors}")
            return _back(request, project, None)
        return render(request, "studio/palette_detail.html", {"project": project, "form": form, "palette": None,
                                                               "can_edit": True}, status=400)
    palette = Palette.objects.create(project=project, created_by=request.user, **form.values())
    messages.success(request, f"Saved the palette “{palette.name}”.")
    return _back(request, project, palette)


@login_required
@require_http_methods(["GET", "POST"])
def palette_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    palette = access.get_palette_for(request.user, pk, need="edit" if request.method == "POST" else "view")
    form = PaletteForm(request.POST) if request.method == "POST" else PaletteForm.of(palette)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        palette.change(values.pop("name"), **values)
        messages.success(request, f"Saved the palette “{palette.name}”.")
        return redirect(palette)
    context = {"project": palette.project, "palette": palette, "form": form,
               "can_edit": access.can(request.user, palette.project_id, "edit")}
    return render(request, "studio/palette_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def palette_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    palette = access.get_palette_for(request.user, pk, need="edit")
    palette.delete()
    messages.success(request, f"Deleted the palette “{palette.name}”.")
    return redirect(palette.project)
