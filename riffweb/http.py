"""The request type every riffweb view takes: Django's, with django-htmx's `request.htmx`."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def back_to(request: HttpRequest, fallback) -> HttpResponse:
    """Post/redirect/get to the page the form came from (its `next`, when on this site), else `fallback`."""
    url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return redirect(url)
    return redirect(fallback)
