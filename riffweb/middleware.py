"""Response headers Django has no setting for."""

from django.conf import settings


def permissions_policy(get_response):
    """`Permissions-Policy` on every response: browser features riffweb never uses stay off."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware
