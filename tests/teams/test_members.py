"""Owners invite, change roles and remove; members leave; a project always keeps an owner."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from riffweb.studio.models import Invitation, Membership, Project
from tests.conftest import make_user


def members_url(project):
    return reverse("teams:member_list", args=[project.pk])


def test_every_member_sees_the_members_and_their_roles(client, project, viewer, editor):
    client.force_login(viewer)
    page = client.get(members_url(project)).content.decode()
    assert "olivia" in page and "ed" in page and "Editor" in page
    assert "Invite someone" not in page


def invite(client, who, role="viewer"):
    return client.post(reverse("teams:member_invite", args=[client.project.pk]), {"who": who, "role": role},
                       headers={"HX-Request": "true"})


@pytest.fixture
def inviter(owner_client, project):
    owner_client.project = project
    return owner_client


def test_inviting_an_existing_user_by_username_is_an_offer_they_accept(inviter, client, project):
    nina = make_user("nina")
    response = invite(inviter, "nina", role="editor")
    assert response.status_code == 200
    assert "Invitation sent to nina" in response.content.decode()
    assert not project.memberships.filter(user=nina).exists()  # nobody joins without consent
    client.force_login(nina)
    page = client.get(reverse("studio:project_list")).content.decode()
    assert "olivia invites you to “Night drive” as editor." in page
    invitation = Invitation.objects.get(user=nina)
    response = client.post(reverse("teams:invitation_join", args=[invitation.pk]))
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    assert project.memberships.get(user=nina).role == Membership.Role.EDITOR
    assert "invites you" not in client.get(reverse("studio:project_list")).content.decode()


def test_an_invitee_declines_and_does_not_join(inviter, client, project):
    nina = make_user("nina")
    invite(inviter, "nina")
    client.force_login(nina)
    invitation = Invitation.objects.get(user=nina)
    client.post(reverse("teams:invitation_decline", args=[invitation.pk]))
    assert not project.memberships.filter(user=nina).exists()
    assert client.post(reverse("teams:invitation_join", args=[invitation.pk])).status_code == 404
    assert client.get(invitation.get_absolute_url()).status_code == 404


def test_another_user_cannot_answer_someone_elses_invitation(inviter, client, project, stranger):
    make_user("nina")
    invite(inviter, "nina")
    invitation = Invitation.objects.get(username="nina")
    client.force_login(stranger)
    assert client.post(reverse("teams:invitation_join", args=[invitation.pk])).status_code == 404
    assert client.post(reverse("teams:invitation_decline", args=[invitation.pk])).status_code == 404
    assert not project.memberships.filter(user=stranger).exists()


def test_an_existing_users_address_gets_the_same_offer_in_app_and_by_mail(inviter, client, project):
    nina = make_user("nina")
    invite(inviter, "NINA@example.com")
    assert not project.memberships.filter(user=nina).exists()
    assert mail.outbox[0].to == ["NINA@example.com"]
    client.force_login(nina)
    assert "invites you to “Night drive”" in client.get(reverse("studio:project_list")).content.decode()


def test_an_unknown_address_gets_an_invitation_by_mail_and_the_owner_sees_the_link(inviter, project):
    response = invite(inviter, "newcomer@example.org", role="editor")
    invitation = Invitation.objects.get(email="newcomer@example.org")
    link = invitation.get_absolute_url()
    assert link in response.content.decode()
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    assert mail.outbox[0].to == ["newcomer@example.org"]


def without_ids(html: str, *words: str) -> str:
    """The page with what legitimately differs (the invitee's name, ids, links, tokens) blanked."""
    html = re.sub(r"invitations/[^/\"]+/", "invitations/X/", html)
    html = re.sub(r"(invitation-|csrfmiddlewaretoken\" value=\")[\w-]+", r"\1X", html)
    for word in words:
        html = html.replace(word, "WHO")
    return html


@pytest.mark.parametrize(("known", "unknown"), [("nina", "nobody"), ("nina@example.com", "nobody@example.org")])
def test_the_owners_answer_is_the_same_whether_or_not_the_account_exists(
    inviter, project, known, unknown
):
    """Answers used to tell which usernames exist and map an address to its username."""
    make_user("nina")
    first = invite(inviter, known).content.decode()
    Invitation.objects.all().delete()
    mail.outbox.clear()
    second = invite(inviter, unknown).content.decode()
    assert without_ids(first, known) == without_ids(second, unknown)


def test_an_invitation_link_cannot_be_accepted_by_another_logged_in_user(inviter, client, project, stranger):
    invite(inviter, "newcomer@example.org")
    invitation = Invitation.objects.get(email="newcomer@example.org")
    client.force_login(stranger)
    response = client.post(invitation.get_absolute_url())
    assert response.status_code == 403
    assert "This invitation is for someone else" in response.content.decode()
    assert not project.memberships.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.is_usable


def test_invitations_are_rate_limited_per_user(inviter, project, settings):
    """50 invitation mails once went out in 0.7 s: now an owner sends at most N an hour."""
    settings.RIFFWEB_INVITES_PER_HOUR = 5
    for n in range(8):
        invite(inviter, f"person{n}@example.org")
    assert Invitation.objects.count() == 5 and len(mail.outbox) == 5
    response = invite(inviter, "one-more@example.org")
    assert "You have sent 5 invitations in the last hour" in response.content.decode()


class FailingMailer:
    """A mail backend that breaks the way a bad header once did, mid-request."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ValueError("Header values may not contain linefeed or carriage return characters")


def test_an_invitation_that_fails_midway_leaves_no_half_written_rows(inviter, project, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingMailer"}}
    with pytest.raises(ValueError):
        invite(inviter, "newcomer@example.org")
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("name", ["Evil\r\nBcc: victim@example.org", "Two\nlines", "Tab\tname", "Sep\u2028arator"])
def test_project_names_cannot_carry_line_breaks(owner_client, name):
    response = owner_client.post(reverse("studio:project_create"), {"name": name})
    assert "Use one line, without line breaks or control characters." in response.content.decode()
    assert not Project.objects.filter(name=name).exists()


def test_the_mail_subject_carries_no_user_text(inviter, project):
    project.name = "Evil\r\nBcc: victim@example.org"
    project.save()  # as an old row could: the form refuses such names now
    invite(inviter, "newcomer@example.org")
    assert mail.outbox[0].subject == "An invitation to a project on riffweb"
    assert mail.outbox[0].to == ["newcomer@example.org"] and not mail.outbox[0].bcc


def test_inviting_a_member_again_is_refused(owner_client, project, viewer):
    response = owner_client.post(reverse("teams:member_invite", args=[project.pk]),
                                 {"who": "vera", "role": "owner"}, headers={"HX-Request": "true"})
    assert "already a member" in response.content.decode()
    assert project.memberships.get(user=viewer).role == "viewer"


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_owners_invite(client, project, role):
    member = make_user("m")
    Membership.objects.create(project=project, user=member, role=role)
    client.force_login(member)
    response = client.post(reverse("teams:member_invite", args=[project.pk]), {"who": "x@example.org"})
    assert response.status_code == 403


def test_an_owner_changes_a_role(owner_client, project, viewer):
    member = project.memberships.get(user=viewer)
    owner_client.post(reverse("teams:member_role", args=[project.pk, member.pk]), {"role": "editor"})
    member.refresh_from_db()
    assert member.role == "editor"


def test_the_last_owner_cannot_step_down(owner_client, project, owner):
    member = project.memberships.get(user=owner)
    response = owner_client.post(reverse("teams:member_role", args=[project.pk, member.pk]),
                                 {"role": "viewer"}, headers={"HX-Request": "true"})
    assert "always keeps an owner" in response.content.decode()
    member.refresh_from_db()
    assert member.role == "owner"


def test_an_owner_can_step_down_once_there_is_another_owner(owner_client, project, owner, editor):
    project.memberships.filter(user=editor).update(role="owner")
    member = project.memberships.get(user=owner)
    owner_client.post(reverse("teams:member_role", args=[project.pk, member.pk]), {"role": "editor"})
    member.refresh_from_db()
    assert member.role == "editor"


def test_an_owner_removes_a_member_who_then_loses_access(client, owner_client, project, viewer, done_song):
    member = project.memberships.get(user=viewer)
    owner_client.post(reverse("teams:member_remove", args=[project.pk, member.pk]))
    assert not project.memberships.filter(user=viewer).exists()
    client.force_login(viewer)
    assert client.get(done_song.get_absolute_url()).status_code == 404


def test_a_member_leaves(client, project, editor):
    client.force_login(editor)
    response = client.post(reverse("teams:member_leave", args=[project.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("studio:project_list")
    assert not project.memberships.filter(user=editor).exists()


def test_the_last_owner_cannot_leave(owner_client, project, owner):
    response = owner_client.post(reverse("teams:member_leave", args=[project.pk]), follow=True)
    assert "always keeps an owner" in response.content.decode()
    assert project.memberships.filter(user=owner, role="owner").exists()


def test_a_member_of_another_project_cannot_be_changed_through_this_one(owner_client, project, stranger):
    from riffweb.studio.models import Project

    other = Project.create_for(stranger, name="Elsewhere")
    foreign = other.memberships.get()
    response = owner_client.post(reverse("teams:member_role", args=[project.pk, foreign.pk]), {"role": "viewer"})
    assert response.status_code == 404


def test_an_owner_deletes_the_project_with_its_songs_and_files(owner_client, project, done_song,
                                                              django_capture_on_commit_callbacks):
    import os

    from riffweb.studio.models import Project, Song

    path = done_song.audio.path
    url = reverse("teams:project_delete", args=[project.pk])
    owner_client.post(url, {"confirm": "wrong name"})
    assert Project.objects.filter(pk=project.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, {"confirm": project.name})
    assert response.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Song.objects.filter(pk=done_song.pk).exists()
    assert not os.path.exists(path)


def test_a_song_moved_away_survives_its_first_project(owner_client, owner, project, done_song):
    from riffweb.studio.models import Project, Song

    other = Project.create_for(owner, name="Keepers")
    owner_client.post(reverse("library:song_move", args=[done_song.pk]), {"project": other.pk})
    owner_client.post(reverse("teams:project_delete", args=[project.pk]), {"confirm": project.name})
    survivor = Song.objects.get(pk=done_song.pk)
    assert survivor.project == other and survivor.transform.project == other


def test_only_owners_delete_projects(client, editor, project):
    client.force_login(editor)
    response = client.post(reverse("teams:project_delete", args=[project.pk]), {"confirm": project.name})
    assert response.status_code == 403
