"""Who reaches what: strangers see 404s, anonymous users are sent to log in."""

import pytest
from django.urls import reverse

from tests.conftest import finish_song


@pytest.fixture
def urls(project, request_with_songs):
    song = finish_song(request_with_songs.songs.get(variant=0))
    return {
        "project": reverse("studio:project_detail", args=[project.pk]),
        "song": reverse("studio:song_detail", args=[song.pk]),
        "status": f"{reverse('studio:song_status')}?card={song.pk}:0",
        "audio": reverse("studio:song_audio", args=[song.pk]),
        "download": reverse("studio:song_download", args=[song.pk]),
    }


@pytest.mark.parametrize("name", ["project", "song", "audio", "download"])
def test_a_stranger_gets_404(client, stranger, urls, name):
    client.force_login(stranger)
    assert client.get(urls[name]).status_code == 404


def test_a_strangers_status_poll_leaves_the_song_out(client, stranger, urls):
    client.force_login(stranger)
    response = client.get(urls["status"])
    assert response.status_code == 286 and response.content == b""


@pytest.mark.parametrize("name", ["project", "song", "status", "audio", "download"])
def test_anonymous_users_are_sent_to_log_in(client, urls, name):
    response = client.get(urls[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("project", 200), ("song", 200), ("status", 286), ("audio", 200), ("download", 200)],
)
def test_a_viewer_can_listen(client, viewer, urls, name, expected):
    client.force_login(viewer)
    assert client.get(urls[name]).status_code == expected


def test_a_viewer_cannot_submit_requests(client, viewer, project):
    client.force_login(viewer)
    response = client.post(reverse("studio:professional_create", args=[project.pk]), {})
    assert response.status_code == 403


def test_a_stranger_cannot_submit_requests(client, stranger, project):
    client.force_login(stranger)
    response = client.post(reverse("studio:professional_create", args=[project.pk]), {})
    assert response.status_code == 404


def test_the_project_list_shows_only_my_projects(client, stranger, project):
    client.force_login(stranger)
    response = client.get(reverse("studio:project_list"))
    assert project.name not in response.content.decode()
