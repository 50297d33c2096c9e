from riffweb.upstream.models import UpstreamState


def upstream_health(request):
    """`upstream_attention`: a short operator message while the upstream needs one; staff only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"upstream_attention": None}
    message = (
        UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).values_list("attention", flat=True).first()
    )
    return {"upstream_attention": message or None}
