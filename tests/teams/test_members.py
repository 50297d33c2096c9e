"""Owners invite, change roles and remove; members leave; a project always keeps an owner."""

import pytest
from django.core import mail
from django.urls import reverse

from riffweb.studio.models import Invitation, Membership
from tests.conftest import make_user


def members_url(project):
    return reverse("teams:member_list", args=[project.pk])


def test_every_member_sees_the_members_and_their_roles(client, project, viewer, editor):
    client.force_login(viewer)
    page = client.get(members_url(project)).content.decode()
    assert "olivia" in page and "ed" in page and "Editor" in page
    assert "Invite someone" not in page


def test_an_owner_adds_an_existing_user_by_username(owner_client, project):
    make_user("nina")
    response = owner_client.post(reverse("teams:member_invite", args=[project.pk]),
                                 {"who": "nina", "role": "editor"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "nina joined as editor" in response.content.decode()
    assert project.memberships.get(user__username="nina").role == Membership.Role.EDITOR


def test_an_owner_adds_an_existing_user_by_email_address(owner_client, project):
    make_user("nina")
    owner_client.post(reverse("teams:member_invite", args=[project.pk]),
                      {"who": "NINA@example.com", "role": "viewer"})
    assert project.memberships.filter(user__username="nina", role="viewer").exists()


def test_an_unknown_address_gets_an_invitation_by_mail_and_the_owner_sees_the_link(owner_client, project):
    response = owner_client.post(reverse("teams:member_invite", args=[project.pk]),
                                 {"who": "newcomer@example.org", "role": "editor"},
                                 headers={"HX-Request": "true"})
    invitation = Invitation.objects.get(email="newcomer@example.org")
    link = invitation.get_absolute_url()
    assert link in response.content.decode()
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    assert mail.outbox[0].to == ["newcomer@example.org"]


def test_an_unknown_username_is_refused_with_a_hint(owner_client, project):
    response = owner_client.post(reverse("teams:member_invite", args=[project.pk]),
                                 {"who": "nobody", "role": "viewer"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "invite them by e-mail address" in response.content.decode()


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
