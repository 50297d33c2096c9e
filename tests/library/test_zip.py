"""Several songs as one zip, each with a JSON sidecar: title, lyrics, tags, parameters, lineage, dates."""

import io
import json
import zipfile

from django.urls import reverse

from django.core.files.base import ContentFile

from riffweb.studio.models import Membership, Project, Transform
from tests.conftest import add_member, finish_song, jpeg, make_request


def test_the_zip_has_audio_and_a_sidecar_per_song(owner_client, owner, project, done_song):
    child = make_request(project, owner, title="Cover of it", mode=Transform.Mode.COVER,
                         source_song=done_song, cover_strength=0.7)
    cover = finish_song(child.songs.get(variant=1))
    response = owner_client.post(reverse("library:download_zip"), {"songs": [done_song.pk, cover.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert sum(n.endswith(".wav") for n in names) == 2 and sum(n.endswith(".json") for n in names) == 2
    sidecar = json.loads(archive.read(next(n for n in names if n.startswith(f"{cover.pk}-") and n.endswith(".json"))))
    assert sidecar["title"] == "Cover of it" and sidecar["lyrics"] == cover.lyrics and sidecar["tags"] == cover.tags
    assert sidecar["request"]["mode"] == "cover" and sidecar["request"]["cover_strength"] == 0.7
    assert sidecar["request"]["model"] == "FUZZ-1.1"
    assert sidecar["lineage"] == [{"song": done_song.pk, "title": done_song.display_title,
                                   "variant": "A", "mode": "professional"}]
    assert sidecar["created_at"] and "callback_secret" not in sidecar["request"]


def test_the_zip_keeps_what_the_service_made_timed_lyrics_cover_art_and_the_teams_marks(owner_client, done_song):
    done_song.timed_lyrics = [{"start": 1.5, "end": 3.0, "text": "City lights"}]
    done_song.cover.save("cover.jpg", ContentFile(jpeg()), save=False)
    done_song.api_style, done_song.api_title, done_song.keepers = "dark synthwave", "Neon", 2
    done_song.save()
    response = owner_client.post(reverse("library:download_zip"), {"songs": [done_song.pk]})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    stem = f"{done_song.pk}-neon-rain-a"
    assert sorted(archive.namelist()) == [f"{stem}.{ext}" for ext in ("jpg", "json", "lrc", "wav")]
    assert "[00:01.50]City lights" in archive.read(f"{stem}.lrc").decode()
    assert archive.read(f"{stem}.jpg") == jpeg()
    sidecar = json.loads(archive.read(f"{stem}.json"))
    assert sidecar["made_by_service"]["style"] == "dark synthwave" and sidecar["made_by_service"]["title"] == "Neon"
    assert sidecar["takes"] == {"keepers": 2, "maybes": 0, "rejects": 0}


def test_a_song_i_cannot_see_makes_the_zip_404(owner_client, done_song, stranger):
    theirs = finish_song(make_request(Project.create_for(stranger, name="S"), stranger).songs.get(variant=0))
    response = owner_client.post(reverse("library:download_zip"), {"songs": [done_song.pk, theirs.pk]})
    assert response.status_code == 404


def test_a_viewer_may_download_a_zip(client, viewer, done_song):
    client.force_login(viewer)
    assert client.post(reverse("library:download_zip"), {"songs": [done_song.pk]}).status_code == 200


def test_a_zip_of_nothing_says_what_to_do(owner_client, done_song):
    response = owner_client.post(reverse("library:download_zip"), {"next": "/library/"}, follow=True)
    assert response.status_code == 200
    assert "Tick the songs to download first." in response.content.decode()


def test_a_moved_songs_zip_does_not_reveal_the_project_it_came_from(client, owner, project, done_song):
    """An editor of both projects moved a cover into a project a newcomer can see; the source
    stayed behind in a project the newcomer cannot."""
    elsewhere = Project.create_for(owner, name="Open room")
    child = make_request(project, owner, title="Cover of it", mode=Transform.Mode.COVER, source_song=done_song)
    cover = finish_song(child.songs.get(variant=0))
    cover.project = elsewhere
    cover.save(update_fields=["project"])
    newcomer = add_member(elsewhere, "nina", Membership.Role.VIEWER)
    client.force_login(newcomer)
    response = client.post(reverse("library:download_zip"), {"songs": [cover.pk]})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sidecar = json.loads(archive.read(next(n for n in archive.namelist() if n.endswith(".json"))))
    assert sidecar["lineage"] == [] and sidecar["request"]["source_song"] is None
    assert done_song.display_title not in json.dumps(sidecar).replace(sidecar["title"], "")
