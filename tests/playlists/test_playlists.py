"""Playlists: editors make and arrange them, members listen; listen-only guest links that expire
and can be revoked; a zip in order with sidecars; and where each listener stopped."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from riffweb.playlists.models import ListenPosition, Playlist, PlaylistLink
from riffweb.studio.models import Project
from tests.conftest import finish_song, make_request

HTMX = {"HX-Request": "true"}


@pytest.fixture
def songs(project, owner):
    return [finish_song(make_request(project, owner, title=t).songs.get(variant=0), seconds=1.0)
            for t in ("First", "Second", "Third")]


@pytest.fixture
def playlist(project, owner, songs):
    playlist = Playlist.objects.create(project=project, name="Set list", created_by=owner)
    for song in songs:
        playlist.add(song, by=owner)
    return playlist


def listed(client, playlist) -> list[str]:
    html = client.get(playlist.get_absolute_url()).content.decode()
    return re.findall(r'data-title="(\w+) · variant', html)


def test_an_editor_makes_a_playlist_and_adds_songs_from_the_song_page(client, editor, project, songs):
    client.force_login(editor)
    response = client.post(reverse("playlists:playlist_create", args=[project.pk]), {"name": "Live set"})
    playlist = Playlist.objects.get(name="Live set")
    assert response["Location"] == playlist.get_absolute_url()
    page = client.get(songs[1].get_absolute_url()).content.decode()
    assert "Add variant A to playlist" in page and "Live set" in page
    add = reverse("playlists:playlist_add")
    response = client.post(add, {"playlist": playlist.pk, "song": songs[1].pk, "next": songs[1].get_absolute_url()})
    assert response["Location"] == songs[1].get_absolute_url()
    client.post(add, {"playlist": playlist.pk, "song": songs[0].pk})
    assert listed(client, playlist) == ["Second", "First"]


def test_an_empty_name_is_refused_with_a_message(client, editor, project):
    client.force_login(editor)
    response = client.post(reverse("playlists:playlist_create", args=[project.pk]), {"name": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()


def test_only_songs_of_the_playlists_project_go_in(client, owner, playlist):
    elsewhere = Project.create_for(owner, name="B-sides")
    other = finish_song(make_request(elsewhere, owner, title="Outsider").songs.get(variant=0))
    client.force_login(owner)
    response = client.post(reverse("playlists:playlist_add"), {"playlist": playlist.pk, "song": other.pk}, follow=True)
    assert "Only songs of this playlist&#x27;s project can be added." in response.content.decode()
    assert "Outsider" not in listed(client, playlist)
    response = client.post(reverse("playlists:playlist_add"), {"playlist": "x", "song": other.pk})
    assert response.status_code == 400


def test_the_library_adds_ticked_songs_to_a_playlist(client, owner, playlist, songs):
    client.force_login(owner)
    assert "Set list (Night drive)" in client.get(reverse("library:song_list")).content.decode()
    client.post(reverse("library:bulk"), {"songs": [songs[2].pk, songs[0].pk], "action": "playlist",
                                          "playlist": playlist.pk})
    assert listed(client, playlist) == ["First", "Second", "Third", "First", "Third"]


def test_viewers_listen_but_do_not_arrange(client, viewer, playlist):
    client.force_login(viewer)
    page = client.get(playlist.get_absolute_url()).content.decode()
    assert "data-queue-item" in page and "Move up" not in page and "Create guest link" not in page
    entry = playlist.entries.first()
    assert client.post(reverse("playlists:playlist_order", args=[playlist.pk]),
                       {"item": entry.pk, "move": "down"}).status_code == 403


def test_editors_reorder_by_drag_and_by_keyboard_and_remove(client, editor, playlist):
    client.force_login(editor)
    ids = playlist.entry_ids()
    url = reverse("playlists:playlist_order", args=[playlist.pk])
    page = client.get(playlist.get_absolute_url()).content.decode()
    assert page.count(f'hx-post="{url}"') == 4  # the drag's form and each song's move buttons
    client.post(url, {"order": [ids[2], ids[0], ids[1]]})
    assert listed(client, playlist) == ["Third", "First", "Second"]
    html = client.post(url, {"item": ids[1], "move": "up"}, headers=HTMX).content.decode()
    assert html.lstrip().startswith('<section id="playlist-entries"')
    assert listed(client, playlist) == ["Third", "Second", "First"]
    client.post(reverse("playlists:playlist_remove", args=[playlist.pk, ids[2]]))
    assert listed(client, playlist) == ["Second", "First"]
    response = client.post(url, {"order": ["nope"]}, headers=HTMX)
    assert "The new order names something that is not in this list." in response.content.decode()


def test_the_zip_holds_the_songs_in_order_with_their_sidecars(client, viewer, playlist):
    ids = playlist.entry_ids()
    playlist.arrange([ids[1], ids[2], ids[0]], by=playlist.created_by)
    client.force_login(viewer)
    response = client.get(reverse("playlists:playlist_download", args=[playlist.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert [n.split(".")[-1] for n in names] == ["json", "wav"] * 3
    titles = [json.loads(archive.read(n))["title"] for n in names if n.endswith(".json")]
    assert titles == ["Second", "Third", "First"]
    assert names[0].startswith("01-") and names[-1].startswith("03-")


def test_a_guest_link_plays_the_playlist_listen_only_until_revoked(client, owner, playlist, songs):
    client.force_login(owner)
    client.post(reverse("playlists:playlist_link_create", args=[playlist.pk]), {"expires_in": "7"})
    link = PlaylistLink.objects.get()
    assert link.expires_at > timezone.now() + timedelta(days=6)
    client.logout()
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200 and page["X-Robots-Tag"] == "noindex"
    html = page.content.decode()
    assert re.findall(r'data-title="(\w+) · variant', html) == ["First", "Second", "Third"]
    assert "data-position-url" not in html  # guests are not remembered
    audio = client.get(reverse("playlists:guest_playlist_audio", args=[link.token, songs[1].pk]))
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"  # the preview, not the WAV
    outsider = finish_song(make_request(playlist.project, owner, title="Not in it").songs.get(variant=0))
    assert client.get(reverse("playlists:guest_playlist_audio", args=[link.token, outsider.pk])).status_code == 404
    client.force_login(owner)
    client.post(reverse("playlists:playlist_link_revoke", args=[link.pk]))
    client.logout()
    assert client.get(link.get_absolute_url()).status_code == 404
    assert client.get(reverse("playlists:guest_playlist_audio", args=[link.token, songs[1].pk])).status_code == 404


def test_an_expired_guest_link_opens_nothing(client, owner, playlist):
    link = PlaylistLink.objects.create(playlist=playlist, created_by=owner,
                                       expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(link.get_absolute_url()).status_code == 404


def test_the_server_remembers_where_i_stopped_and_offers_to_resume(client, viewer, owner, playlist, songs):
    song = finish_song(make_request(playlist.project, owner, title="Long one").songs.get(variant=0), seconds=90)
    client.force_login(viewer)
    url = reverse("playlists:song_position", args=[song.pk])
    assert client.post(url, {"at": "83.46"}).status_code == 204
    assert client.post(url, {"at": "84.2"}).status_code == 204
    assert ListenPosition.objects.get().seconds == 84.2
    assert "Resume at 1:24" in client.get(song.get_absolute_url()).content.decode()
    assert client.post(url, {"at": "soon"}).status_code == 400

    url = reverse("playlists:playlist_position", args=[playlist.pk])
    assert client.post(url, {"song": songs[1].pk, "at": "0.5"}).status_code == 204
    assert "Resume at 0:00 in “Second”" in client.get(playlist.get_absolute_url()).content.decode()
    assert client.post(url, {"song": song.pk, "at": "1"}).status_code == 400  # not in this playlist
    # Someone else's position is theirs: the owner is offered nothing.
    client.force_login(owner)
    assert "Resume at" not in client.get(song.get_absolute_url()).content.decode()


def test_positions_need_the_csrf_token(owner, songs):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(reverse("playlists:song_position", args=[songs[0].pk]), {"at": "0.5"})
    assert response.status_code == 403 and not ListenPosition.objects.exists()


def test_a_song_moved_or_trashed_leaves_the_playlist_and_its_guest_link(client, owner, playlist, songs):
    link = PlaylistLink.objects.create(playlist=playlist, created_by=owner)
    songs[0].move_to(Project.create_for(owner, name="B-sides"))
    songs[1].trash()
    html = client.get(link.get_absolute_url()).content.decode()
    assert re.findall(r'data-title="(\w+) · variant', html) == ["Third"]
    assert client.get(reverse("playlists:guest_playlist_audio", args=[link.token, songs[0].pk])).status_code == 404


def test_the_library_refuses_songs_of_another_project_with_a_message(client, owner, playlist):
    elsewhere = Project.create_for(owner, name="B-sides")
    other = finish_song(make_request(elsewhere, owner, title="Outsider").songs.get(variant=0))
    client.force_login(owner)
    response = client.post(reverse("library:bulk"), {"songs": [other.pk], "action": "playlist",
                                                     "playlist": playlist.pk}, follow=True)
    assert "Only songs of “Night drive” go in Set list: Outsider is not." in response.content.decode()
    assert "Outsider" not in listed(client, playlist)
    response = client.post(reverse("library:bulk"), {"songs": [other.pk], "action": "playlist"}, follow=True)
    assert "Choose the playlist to add to." in response.content.decode()
