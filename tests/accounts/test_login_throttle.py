"""Guessing passwords: after 5 wrong ones for a username from one address, that pair waits."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import PASSWORD

LOCKED = "Too many wrong passwords"


def log_in(client, username="olivia", password=PASSWORD, address="203.0.113.7", url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def guess(client, times=5, **kwargs):
    for attempt in range(times):
        response = log_in(client, password=f"guess-{attempt}", **kwargs)
        assert response.status_code in (200, 429)
    return response


def test_five_wrong_passwords_then_the_right_one_is_refused_with_the_lockout_message(client, owner):
    guess(client)
    response = log_in(client)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "paused for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_are_not_yet_a_lockout(client, owner):
    guess(client, times=4)
    assert log_in(client).status_code == 302


def test_after_the_cool_off_the_right_password_logs_in(client, owner, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    guess(client)
    assert log_in(client).status_code == 429
    time.sleep(1.2)
    response = log_in(client)
    assert response.status_code == 302 and response["Location"] == reverse("studio:project_list")


def test_another_address_and_another_username_are_unaffected(client, owner, stranger):
    guess(client, address="203.0.113.7")
    assert log_in(client, address="198.51.100.9").status_code == 302
    client.logout()
    assert log_in(client, username="sam", address="203.0.113.7").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(client, owner):
    """Without BEHIND_PROXY, X-Forwarded-For is the visitor's own text and is ignored."""
    for attempt in range(5):
        client.post(reverse("login"), {"username": "olivia", "password": "x"}, REMOTE_ADDR="203.0.113.7",
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}")
    response = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD},
                           REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_behind_the_proxy_the_address_it_appended_counts(client, owner, settings):
    settings.BEHIND_PROXY = True
    for attempt in range(5):
        client.post(reverse("login"), {"username": "olivia", "password": "x"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"1.2.3.{attempt}, 203.0.113.7")
    locked = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD},
                         REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert locked.status_code == 429
    other = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD},
                        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert other.status_code == 302


@pytest.mark.django_db
def test_the_admin_log_in_is_throttled_too(client):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    admin_login = reverse("admin:login")
    for attempt in range(5):
        log_in(client, username="root", password=f"guess-{attempt}", url=admin_login)
    response = log_in(client, username="root", url=admin_login)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302  # still not logged in
