"""The log-in throttle's two hooks into django-axes, which counts failures per username and address."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The visitor's address: behind our reverse proxy, the one the proxy appended last.

    Earlier X-Forwarded-For entries come from the visitor and prove nothing; without a proxy
    the header is ignored for the same reason.
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request: HttpRequest, original_response, credentials) -> HttpResponse:
    """The log-in page again (for the admin's log-in too), saying why and for how long: 429."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    context = {
        "form": AuthenticationForm(request),
        "next": request.POST.get("next", request.GET.get("next", "")),
        "locked_out": f"Too many wrong passwords: logging in with this username from your address is "
                      f"paused for {minutes} minute{'s' if minutes != 1 else ''}. Try again after that.",
    }
    return render(request, "registration/login.html", context, status=429)
