from riffweb.upstream import keycheck
from riffweb.upstream.models import UpstreamState


def upstream_health(request):
    """`upstream_attention`: a short operator message while the upstream, or the worker
    cluster's configuration, needs one; staff only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"upstream_attention": None}
    attention, worker_key = (
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON)
        .values_list("attention", "worker_key_check")
        .first()
    ) or ("", "")
    if keycheck.worker_key_differs(worker_key):
        attention = f"{keycheck.MISMATCH} {attention}".strip()
    return {"upstream_attention": attention or None}
