import pytest
from django.urls import reverse

from riffweb.studio.models import Membership, Project


def test_creating_a_project_makes_me_its_owner(owner_client, owner):
    response = owner_client.post(reverse("studio:project_create"), {"name": "Summer EP"})
    project = Project.objects.get(name="Summer EP")
    assert response.status_code == 302
    assert response["Location"] == project.get_absolute_url()
    assert Membership.objects.get(project=project, user=owner).role == Membership.Role.OWNER


def test_a_project_needs_a_name(owner_client):
    response = owner_client.post(reverse("studio:project_create"), {"name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Project.objects.exists()


def test_the_project_page_shows_the_form_to_its_editors(owner_client, project):
    page = owner_client.get(project.get_absolute_url()).content.decode()
    assert "Generate two variants" in page
    assert 'hx-post="%s"' % reverse("studio:professional_create", args=[project.pk]) in page


def test_viewers_do_not_see_the_form(client, viewer, project):
    client.force_login(viewer)
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Generate two variants" not in page


@pytest.mark.django_db
def test_the_project_page_lists_requests_with_both_variants(owner_client, request_with_songs):
    page = owner_client.get(request_with_songs.project.get_absolute_url()).content.decode()
    assert "Neon rain · variant A" in page
    assert "Neon rain · variant B" in page
