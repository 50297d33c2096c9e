"""A worker cluster started with another SECRET_KEY drops every task: operators are told."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from riffweb.upstream.models import UpstreamState
from tests.cluster import running_qcluster, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def recorded_key() -> str:
    return UpstreamState.objects.filter(pk=UpstreamState.SINGLETON).values_list("worker_key_check", flat=True).first()


def check(capsys) -> tuple[int, str]:
    try:
        call_command("upstream_check")
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out + out.err


def staff_banner(client, admin_user) -> str:
    client.force_login(admin_user)
    return client.get(reverse("studio:project_list")).content.decode()


def test_a_worker_with_another_secret_key_is_reported_by_the_check_and_the_staff_banner(
    client, admin_user, capsys
):
    with running_qcluster(extra_env={"SECRET_KEY": "a-different-key-the-operator-mistyped-0123456789"}):
        wait_for(recorded_key, timeout=30, message="the worker's key check")
    code, output = check(capsys)
    assert code == 1 and "different SECRET_KEY" in output
    assert "runs with a different SECRET_KEY than the web" in staff_banner(client, admin_user)


def test_a_worker_with_the_same_key_passes(client, admin_user, capsys):
    with running_qcluster():
        wait_for(recorded_key, timeout=30, message="the worker's key check")
    code, output = check(capsys)
    assert code == 0 and "SECRET_KEY" not in output
    assert "different SECRET_KEY" not in staff_banner(client, admin_user)
