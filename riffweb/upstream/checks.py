"""Start-up checks of the upstream configuration (run by `manage.py check` and every server start)."""

from django.conf import settings
from django.core.checks import Error
from django.urls import reverse

MAX_REPLY_URL = 1024  # API.md, create fields: replyUrl and replyRef take at most 1024 characters


def reply_url_fits(app_configs, **kwargs) -> list[Error]:
    """A callback address the service would cut short would send every callback astray."""
    if not settings.RIFFWEB_PUBLIC_URL:
        return []
    url = settings.RIFFWEB_PUBLIC_URL + reverse("upstream:callback")
    if len(url) <= MAX_REPLY_URL:
        return []
    return [Error(
        f"The callback address built on RIFFWEB_PUBLIC_URL is {len(url)} characters long; the music "
        f"service takes at most {MAX_REPLY_URL}.",
        hint="Set RIFFWEB_PUBLIC_URL to this site's shorter public address.",
        id="riffweb.upstream.E001",
    )]


MAX_JOBS = (1, 10)  # API.md, create fields: maxJobs


def max_jobs_in_range(app_configs, **kwargs) -> list[Error]:
    """A maxJobs the service refuses would make every dialect B create fail."""
    value = settings.RIFFWEB_UPSTREAM_MAX_JOBS
    if value in (None, ""):
        return []
    low, high = MAX_JOBS
    if str(value).strip().isdigit() and low <= int(value) <= high:
        return []
    return [Error(
        f"RIFFWEB_UPSTREAM_MAX_JOBS is {value!r}; the music service takes a whole number from {low} to {high}.",
        hint=f"Set RIFFWEB_UPSTREAM_MAX_JOBS to {low}–{high}, or leave it empty for the service's own setting.",
        id="riffweb.upstream.E002",
    )]
