from django.conf import settings

from riffweb.upstream import keycheck
from riffweb.upstream.dialects import USEAPI
from riffweb.upstream.models import UpstreamState

ACCOUNT_ERROR = 596


def account_endpoint() -> str:
    """Where a dialect B gateway takes its account again once its owner has settled it ("" for A)."""
    if settings.RIFFWEB_UPSTREAM_DIALECT != USEAPI:
        return ""
    return f"{settings.RIFFWEB_UPSTREAM_URL}/v1/riffusion/accounts"


def upstream_health(request):
    """`upstream_attention`: a short operator message while the upstream, or the worker
    cluster's configuration, needs one; `upstream_fix`: for an account error (596), the
    account endpoint to call, if the dialect has one. Staff only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"upstream_attention": None, "upstream_fix": None}
    attention, code, worker_key = (
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON)
        .values_list("attention", "attention_code", "worker_key_check")
        .first()
    ) or ("", None, "")
    fix = {"endpoint": account_endpoint()} if attention and code == ACCOUNT_ERROR else None
    if keycheck.worker_key_differs(worker_key):
        attention = f"{keycheck.MISMATCH} {attention}".strip()
    return {"upstream_attention": attention or None, "upstream_fix": fix}
