"""Do the worker cluster and the web process share one SECRET_KEY?

django-q2 signs every task with SECRET_KEY; a worker started with a different key cannot
verify the web's tasks and drops each one without a word. Every worker, as it starts, writes
an HMAC of a fixed text under its key into UpstreamState; the web process and
`manage.py upstream_check` compute the same HMAC under theirs and compare. The key itself
never leaves the process.
"""

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from riffweb.upstream.models import UpstreamState

MISMATCH = (
    "The worker cluster runs with a different SECRET_KEY than the web: it drops every task. "
    "Start both with the same SECRET_KEY."
)


def fingerprint() -> str:
    return salted_hmac("riffweb.upstream.keycheck", "worker-and-web-share-this-key", algorithm="sha256").hexdigest()


def record_worker_key(sender=None, **kwargs) -> None:
    """django-q2's post_spawn receiver: runs in each worker process as it starts."""
    UpstreamState.ensure()
    UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).update(
        worker_key_check=fingerprint(), worker_key_at=timezone.now()
    )


def worker_key_differs(recorded: str | None) -> bool:
    """True when a worker recorded a key and it is not ours; nothing recorded yet is not a mismatch."""
    return bool(recorded) and not constant_time_compare(recorded, fingerprint())
