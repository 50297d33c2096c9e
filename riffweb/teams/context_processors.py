from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from riffweb.studio.models import Invitation


def pending_invitations(request: HttpRequest) -> dict:
    """The invitations waiting for the signed-in person's answer, queried only by a page that shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pending_invitations": SimpleLazyObject(lambda: list(Invitation.objects.pending_for(user)))}
