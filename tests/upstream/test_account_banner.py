"""A 596 from the music service: staff see a banner naming the account endpoint on the
configured base URL and linking to the page that fixes it; musicians see only that the
account needs attention; the token is shown to nobody."""

import pytest
from django.urls import reverse

from riffweb.studio.models import Failure
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request

TOKEN = "secret-token-0123456789"


@pytest.mark.parametrize("dialect", ["useapi", "riffusion"])
def test_a_596_shows_staff_the_fix_and_musicians_only_that_it_needs_attention(
        upstream_at, project, owner, client, admin_user, dialect):
    with running_engine(render_delay=0.3, fault_rate_596=1.0, token=TOKEN) as engine:
        upstream_at(engine.url, dialect=dialect, RIFFWEB_UPSTREAM_TOKEN=TOKEN)
        fields = {"mode": "compose", "prompts": [{"text": "piano"}], "model": "FUZZ-0.8"} if dialect == "useapi" else {}
        transform = make_request(project, owner, dialect=dialect, **fields)
        assert submit_transform(transform.pk) == "failed"
    song = transform.songs.first()
    assert song.failure == Failure.ACCOUNT

    client.force_login(owner)
    musician = client.get(song.get_absolute_url()).content.decode()
    assert "The music service account needs attention" in musician
    assert "Upstream needs attention" not in musician and reverse("upstream:attention") not in musician
    assert client.get(reverse("upstream:attention")).status_code == 403

    client.force_login(admin_user)
    staff = client.get(reverse("studio:project_list")).content.decode()
    assert "Upstream needs attention" in staff and "(HTTP 596)" in staff
    assert f'href="{reverse("upstream:attention")}"' in staff
    page = client.get(reverse("upstream:attention")).content.decode()
    if dialect == "useapi":
        assert f"POST {engine.url}/v1/riffusion/accounts" in staff
        assert f"POST {engine.url}/v1/riffusion/accounts" in page and "fresh session" in page
    else:
        assert "/v1/riffusion/accounts" not in staff + page
        assert "The provider's dashboard for the account" in page
    assert TOKEN not in staff + page + musician
