"""Invitation links: single-use, expiring, bound to the invited address, and they let someone
without an account join."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from riffweb.studio.models import Invitation
from tests.conftest import PASSWORD


def invite(project, owner, role="editor", email="new@example.org", **fields):
    return Invitation.objects.create(project=project, email=email, role=role, invited_by=owner, **fields)


def test_someone_without_an_account_creates_one_and_joins(client, project, owner):
    invitation = invite(project, owner)
    url = invitation.get_absolute_url()
    assert "Create account and join" in client.get(url).content.decode()
    response = client.post(url, {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    assert project.memberships.get(user__username="newbie").role == "editor"
    assert project.memberships.get(user__username="newbie").user.email == "new@example.org"
    assert client.get(project.get_absolute_url()).status_code == 200


def test_a_logged_in_user_with_the_invited_address_joins_with_one_click(client, project, owner, stranger):
    invitation = invite(project, owner, role="viewer", email="SAM@example.com")
    client.force_login(stranger)
    client.post(invitation.get_absolute_url())
    assert project.memberships.get(user=stranger).role == "viewer"


def test_an_invitation_works_once(client, project, owner, stranger):
    invitation = invite(project, owner, email=stranger.email)
    client.force_login(stranger)
    client.post(invitation.get_absolute_url())
    assert client.get(invitation.get_absolute_url()).status_code == 404
    assert client.post(invitation.get_absolute_url()).status_code == 404


def test_an_expired_invitation_answers_404(client, project, owner):
    invitation = invite(project, owner, expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(invitation.get_absolute_url()).status_code == 404


def test_an_owner_cancels_an_invitation(owner_client, client, project, owner):
    invitation = invite(project, owner)
    owner_client.post(reverse("teams:invitation_revoke", args=[invitation.pk]))
    owner_client.logout()
    assert client.get(invitation.get_absolute_url()).status_code == 404


def test_a_bad_account_form_shows_its_errors(client, project, owner):
    invitation = invite(project, owner)
    response = client.post(invitation.get_absolute_url(), {"username": "x", "password1": "a", "password2": "b"})
    assert response.status_code == 200
    assert not project.memberships.filter(user__username="x").exists()
