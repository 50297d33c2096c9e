"""Several machines sharing one bucket: an upload through one web process, the upstream and the
worker on their own, playback through another web process with a different MEDIA_ROOT; every
process is real and they share only the database, the broker and the S3-compatible server."""

from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from riffweb import queue
from riffweb.queue import submit_request
from riffweb.studio.models import Song, Upload
from tests.cluster import free_port, running_engine, running_qcluster, running_web, wait_for
from tests.conftest import finish_song, make_request, tone_wav

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST = {"RIFFWEB_POLL_FIRST": "0.5", "RIFFWEB_POLL_MIN": "0.5", "RIFFWEB_POLL_MAX": "2"}


def signed_in(user, base_url: str) -> requests.Session:
    """A browser session for `user` (the session row is in the shared database) with its CSRF cookie."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.get(f"{base_url}/")
    return session


def files_under(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_upload_on_one_machine_worker_on_another_playback_on_a_third(
    owner, project, s3_media, tmp_path
):
    roots = {name: tmp_path / name for name in ("upload_web", "play_web", "worker")}
    play_port = free_port()
    play_url = f"http://127.0.0.1:{play_port}"
    shared = {**s3_media.env(), **FAST, "RIFFWEB_PUBLIC_URL": play_url}
    wav = tone_wav(3.0)
    with (
        # The upstream fetches the upload from riffweb's signed link, on the playback machine.
        running_engine(render_delay=0.5, trusted_url_prefixes=(play_url,)) as engine,
        running_web(free_port(), {**shared, "MEDIA_ROOT": str(roots["upload_web"])}) as upload_url,
        running_web(play_port, {**shared, "MEDIA_ROOT": str(roots["play_web"])}),
        running_qcluster(engine.url, {**shared, "MEDIA_ROOT": str(roots["worker"])}) as cluster,
    ):
        browser = signed_in(owner, upload_url)
        answer = browser.post(
            f"{upload_url}/projects/{project.pk}/upload/",
            data={"title": "Take one"}, files={"file": ("take.wav", wav, "audio/wav")},
            headers={"X-CSRFToken": browser.cookies["csrftoken"]}, allow_redirects=False,
        )
        assert answer.status_code == 302, answer.text[:500]
        upload = Upload.objects.get()
        assert s3_media.keys() == [upload.audio.name] and s3_media.read(upload.audio.name) == wav
        wait_for(lambda: Upload.objects.get().status == Upload.Status.READY, 60,
                 message=f"the upstream to take the upload\n{cluster.log}")

        transform = make_request(project, owner)
        submit_request(transform.pk)
        # A song is whole once its finishing step (cover art, waveform) is over, too.
        wait_for(lambda: not transform.songs.exclude(status__in=Song.FINISHED).exists()
                 and not transform.songs.filter(finishing=True).exists(), 60,
                 message=f"songs to finish\n{cluster.log}")
        songs = list(transform.songs.all())
        assert [s.status for s in songs] == [Song.Status.DONE] * 2, [(s.error, s.error_detail) for s in songs]
        covers = [s.cover.name for s in songs]
        assert all(covers) and all(s.peaks for s in songs)
        assert s3_media.keys() == sorted([upload.audio.name, *(s.audio.name for s in songs), *covers])

        player = signed_in(owner, play_url)
        redirect = player.get(f"{play_url}/songs/{songs[0].pk}/audio/", allow_redirects=False)
        assert redirect.status_code == 302 and redirect.headers["Location"].startswith(s3_media.endpoint)
        stored = s3_media.read(songs[0].audio.name)
        ranged = requests.get(redirect.headers["Location"], headers={"Range": "bytes=1000-4999"})
        assert ranged.status_code == 206 and ranged.content == stored[1000:5000]
        assert ranged.headers["Content-Range"] == f"bytes 1000-4999/{len(stored)}"
        page = player.get(f"{play_url}/songs/{songs[0].pk}/")
        assert s3_media.endpoint in page.headers["Content-Security-Policy"].split("media-src", 1)[1].split(";")[0]

        trashed = browser.post(f"{upload_url}/songs/{songs[0].pk}/trash/",
                               headers={"X-CSRFToken": browser.cookies["csrftoken"]})
        assert trashed.status_code < 400 and Song.objects.get(pk=songs[0].pk).deleted_at
        # A month later (the rows' clock, not the test's), the worker's daily task empties the trash.
        Song.objects.filter(pk=songs[0].pk).update(deleted_at=timezone.now() - timedelta(days=31))
        queue.enqueue(queue.EMPTY_TRASH)
        kept = sorted([upload.audio.name, songs[1].audio.name, songs[1].cover.name])
        wait_for(lambda: s3_media.keys() == kept, 30, message=f"the trashed song's object to go\n{cluster.log}")
    assert not Song.objects.filter(pk=songs[0].pk).exists()
    assert all(not files_under(root) for root in roots.values())


def test_without_browser_access_the_web_process_streams_from_the_bucket(owner, project, s3_media, tmp_path):
    with running_web(free_port(), {**s3_media.env(browser_access=False), "MEDIA_ROOT": str(tmp_path / "web")}) as url:
        song = finish_song(make_request(project, owner).songs.get(variant=0))
        wav = tone_wav(2.0)
        player = signed_in(owner, url)
        whole = player.get(f"{url}/songs/{song.pk}/audio/", allow_redirects=False)
        assert whole.status_code == 200 and whole.content == wav
        ranged = player.get(f"{url}/songs/{song.pk}/audio/", headers={"Range": "bytes=44-1043"})
        assert ranged.status_code == 206 and ranged.content == wav[44:1044]
        page = player.get(f"{url}/songs/{song.pk}/")
        assert s3_media.endpoint not in page.headers["Content-Security-Policy"]
    assert not files_under(tmp_path / "web")
