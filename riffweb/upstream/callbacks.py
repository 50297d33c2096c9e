"""Dialect B's progress callbacks: where the upstream calls us and how we know it is them.

The URL we hand the upstream is the same for every request and carries no secret, so access
logs and proxies record nothing worth stealing. The proof travels in the body instead:
`replyRef`, which the upstream echoes with every callback, is the request's id and its
per-request secret.
"""

import hmac

from django.conf import settings
from django.urls import reverse

from riffweb.studio.models import Transform

_SEPARATOR = "."  # never in a token_urlsafe secret, never in a decimal id


def reply_url(transform: Transform) -> str:
    return settings.RIFFWEB_PUBLIC_URL + reverse("upstream:callback")


def reply_ref(transform: Transform) -> str:
    return f"{transform.pk}{_SEPARATOR}{transform.callback_secret}"


def verified_transform(payload: object) -> Transform | None:
    """The request a callback's body speaks for, or None when its `replyRef` does not prove it.

    An unknown id and a wrong secret give the same None, so a caller learns nothing about
    which requests exist; the secrets are compared as bytes, in constant time, whatever
    characters a forger sends.
    """
    ref = payload.get("replyRef") if isinstance(payload, dict) else None
    if not isinstance(ref, str):
        return None
    transform_id, _, secret = ref.partition(_SEPARATOR)
    # At most 18 digits: every such number fits the database's 64-bit key.
    if not (transform_id.isascii() and transform_id.isdigit() and len(transform_id) <= 18):
        return None
    transform = Transform.objects.filter(pk=int(transform_id)).first()
    # JSON may carry lone surrogates: "surrogatepass" turns them into bytes that never match.
    given = secret.encode("utf-8", "surrogatepass")
    if transform is None or not hmac.compare_digest(transform.callback_secret.encode(), given):
        return None
    return transform
