from django.conf import settings


def studio(request):
    """Facts every page may show; never secrets (the upstream token stays server-side)."""
    return {
        "upstream_dialect": settings.RIFFWEB_UPSTREAM_DIALECT,
        "signup_enabled": settings.RIFFWEB_SIGNUP_ENABLED,
    }
