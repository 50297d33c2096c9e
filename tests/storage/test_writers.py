"""Media on an S3-compatible server (moto's, over loopback HTTP): every writer stores through the
storage API into the bucket, every reader reads from it, and nothing lands under MEDIA_ROOT."""

import io
import threading
import time
import zipfile
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from riffweb import audio, queue
from riffweb.studio import tasks
from riffweb.studio.models import GuestLink, Song, SongFile, Upload
from riffweb.upstream import fetch, tracker
from riffweb.upstream.submit import submit_transform
from riffweb.upstream.uploads import send_upload, signed_link
from tests.cluster import running_engine
from tests.conftest import finish_song, make_request, tone_wav

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

WAV = tone_wav(2.0)


@pytest.fixture(autouse=True)
def nothing_on_disk(s3_media):
    yield
    media_root = settings.MEDIA_ROOT
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, **kwargs: True)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_form_upload_is_stored_in_the_bucket(owner_client, project, s3_media, no_broker, settings):
    settings.RIFFWEB_PUBLIC_URL = "https://studio.example.com"  # where the upstream fetches uploads
    file = SimpleUploadedFile("take.wav", WAV, content_type="audio/wav")
    owner_client.post(reverse("studio:upload_create", args=[project.pk]), {"title": "Take", "file": file})
    upload = Upload.objects.get()
    assert upload.audio.name.startswith("uploads/") and s3_media.keys() == [upload.audio.name]
    assert s3_media.read(upload.audio.name) == WAV


class WavHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(WAV)))
        self.end_headers()
        self.wfile.write(WAV)

    def log_message(self, *args):
        pass


def test_a_fetched_link_is_stored_in_the_bucket(project, owner, s3_media, monkeypatch, no_broker):
    server = ThreadingHTTPServer(("127.0.0.1", 0), WavHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # The loopback server stands in for a public host: the fetcher's address rule lets it through.
    allowed = fetch.address_allowed
    monkeypatch.setattr(fetch, "address_allowed", lambda a, allow_private=False: a == "127.0.0.1" or allowed(a))
    try:
        upload = Upload.objects.create(project=project, created_by=owner, title="Linked",
                                       source_url=f"http://127.0.0.1:{server.server_port}/take.wav")
        assert tasks.fetch_upload(upload.pk) == "fetched"
    finally:
        server.shutdown()
    upload.refresh_from_db()
    assert s3_media.keys() == [upload.audio.name] and s3_media.read(upload.audio.name) == WAV


def test_a_finished_song_is_downloaded_into_the_bucket(project, owner, s3_media, settings, monkeypatch):
    finish_song = tracker.finish_song
    monkeypatch.setattr(tracker, "finish_song", lambda pk: "left for later")  # the pump's loop leaves the extras
    with running_engine(render_delay=0.1) as engine:
        settings.RIFFWEB_UPSTREAM_URL = engine.url
        settings.RIFFWEB_DOWNLOAD_THREADS = 0  # inline, so this test's connection sees the rows
        settings.RIFFWEB_POLL_FIRST = settings.RIFFWEB_POLL_MIN = 0.1
        tracker.upstream_is_local.cache_clear()
        transform = make_request(project, owner)
        assert submit_transform(transform.pk) == "submitted"
        deadline = time.monotonic() + 30
        while not all(s.is_finished for s in transform.songs.all()) and time.monotonic() < deadline:
            tracker.run_pump(seconds=0.5)
        songs = list(transform.songs.all())
        assert [s.status for s in songs] == [Song.Status.DONE] * 2, [(s.error, s.error_detail) for s in songs]
        # Stored from its frame headers, without its cover: the waveform and the picture come next.
        assert [(s.peaks, s.cover.name, s.finishing) for s in songs] == [([], "", True)] * 2
        assert [finish_song(s.pk) for s in songs] == ["finished"] * 2  # reading from the bucket
    tracker.upstream_is_local.cache_clear()
    songs = list(transform.songs.all())
    # Each song's audio and its cover art, nothing else (previews are gone once the song is stored).
    assert s3_media.keys() == sorted([s.audio.name for s in songs] + [s.cover.name for s in songs])
    for song in songs:
        checked = audio.check(s3_media.read(song.audio.name), max_seconds=600)
        assert checked.duration == pytest.approx(song.duration, abs=0.05) and song.peaks == checked.peaks


def test_playing_sends_the_browser_to_a_signed_link_that_answers_ranges(owner_client, request_with_songs, s3_media):
    song = finish_song(request_with_songs.songs.get(variant=0))
    response = owner_client.get(reverse("studio:song_audio", args=[song.pk]))
    assert response.status_code == 302 and response["Location"].startswith(s3_media.endpoint + "/")
    assert "X-Amz-Signature=" in response["Location"] and "X-Amz-Expires=300" in response["Location"]
    assert response["Cache-Control"] == "private, no-store"
    assert requests.get(f"{s3_media.endpoint}/{s3_media.name}/{song.audio.name}").status_code == 403
    ranged = requests.get(response["Location"], headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == WAV[100:200]
    assert ranged.headers["Content-Type"] == "audio/wav"


def test_a_download_link_keeps_the_file_name(owner_client, request_with_songs, s3_media):
    song = finish_song(request_with_songs.songs.get(variant=0))
    response = owner_client.get(reverse("studio:song_download", args=[song.pk]))
    answer = requests.get(response["Location"])
    assert answer.status_code == 200 and answer.content == WAV
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{song.download_name()}"'


@pytest.mark.parametrize("browser_access", [True, False])
def test_a_kept_wav_is_saved_from_the_bucket_under_its_name(owner_client, request_with_songs, s3_media, settings,
                                                            browser_access):
    settings.RIFFWEB_MEDIA_REDIRECT = browser_access
    song = finish_song(request_with_songs.songs.get(variant=0))
    kept = SongFile.objects.create(song=song, kind=SongFile.Kind.WAV)
    assert kept.store(default_storage.save("song-files/kept.wav", ContentFile(WAV)), len(WAV))
    response = owner_client.get(reverse("studio:song_file", args=[song.pk, "wav"]))
    if browser_access:
        assert response.status_code == 302 and response["Location"].startswith(s3_media.endpoint + "/")
        response = requests.get(response["Location"])
        content, disposition = response.content, response.headers["Content-Disposition"]
    else:
        content, disposition = body(response), response["Content-Disposition"]
    assert response.status_code == 200 and content == WAV
    assert disposition == f'attachment; filename="{kept.download_name()}"'


def test_a_stranger_is_refused_before_any_link_is_made(client, stranger, request_with_songs, s3_media):
    song = finish_song(request_with_songs.songs.get(variant=0))
    client.force_login(stranger)
    assert client.get(reverse("studio:song_audio", args=[song.pk])).status_code == 404


def test_without_browser_access_riffweb_streams_the_bytes_itself(owner_client, request_with_songs, s3_media, settings):
    settings.RIFFWEB_MEDIA_REDIRECT = False
    song = finish_song(request_with_songs.songs.get(variant=0))
    url = reverse("studio:song_audio", args=[song.pk])
    whole = owner_client.get(url)
    assert whole.status_code == 200 and body(whole) == WAV
    ranged = owner_client.get(url, headers={"Range": f"bytes={len(WAV) - 50}-"})
    assert ranged.status_code == 206 and body(ranged) == WAV[-50:]
    assert ranged["Content-Range"] == f"bytes {len(WAV) - 50}-{len(WAV) - 1}/{len(WAV)}"


def test_a_listen_only_guest_gets_a_preview_made_from_the_bucket(client, request_with_songs, s3_media):
    song = finish_song(request_with_songs.songs.get(variant=0))
    link = GuestLink.objects.create(song=song)
    response = client.get(reverse("teams:guest_audio", args=[link.token]))
    song.refresh_from_db()
    assert response.status_code == 302 and response["X-Robots-Tag"] == "noindex"
    assert s3_media.keys() == sorted([song.audio.name, song.preview.name])
    heard = requests.get(response["Location"]).content
    assert heard == s3_media.read(song.preview.name)
    assert audio.check(heard, max_seconds=600).format == "mp3"


def test_the_upstream_fetches_an_upload_through_riffweb_not_from_the_store(client, project, owner, s3_media):
    upload = Upload.objects.create(project=project, created_by=owner, title="Take", audio_format="wav")
    upload.audio.save("upload.wav", io.BytesIO(WAV), save=True)
    response = client.get(signed_link(upload).removeprefix(settings.RIFFWEB_PUBLIC_URL))
    assert response.status_code == 200 and body(response) == WAV


def test_dialect_b_sends_the_uploads_bytes_read_from_the_bucket(project, owner, s3_media, settings):
    upload = Upload(project=project, created_by=owner, title="Take", audio_format="wav")
    upload.audio.save("take.wav", io.BytesIO(WAV), save=True)
    with running_engine(render_delay=0.2) as engine:
        settings.RIFFWEB_UPSTREAM_URL, settings.RIFFWEB_UPSTREAM_DIALECT = engine.url, "useapi"
        assert send_upload(upload.pk) == "pending", Upload.objects.get(pk=upload.pk).error_detail
        assert engine.stats()["counts"]["upload"] == 1


def test_the_zip_export_reads_each_song_from_the_bucket(owner_client, request_with_songs, s3_media):
    song = finish_song(request_with_songs.songs.get(variant=0))
    response = owner_client.post(reverse("library:download_zip"), {"songs": [song.pk]})
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    [wav] = [name for name in archive.namelist() if name.endswith(".wav")]
    assert archive.read(wav) == WAV


def test_emptying_the_trash_deletes_the_objects(request_with_songs, s3_media):
    old = finish_song(request_with_songs.songs.get(variant=0))
    old.ensure_preview()
    recent = finish_song(request_with_songs.songs.get(variant=1))
    old.deleted_at = timezone.now() - timedelta(days=31)
    old.save(update_fields=["deleted_at"])
    assert len(s3_media.keys()) == 3
    call_command("empty_trash")
    assert s3_media.keys() == [recent.audio.name]


def test_deleting_a_project_deletes_its_objects(owner_client, project, request_with_songs, s3_media,
                                               django_capture_on_commit_callbacks):
    finish_song(request_with_songs.songs.get(variant=0))
    finish_song(request_with_songs.songs.get(variant=1))
    assert len(s3_media.keys()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("teams:project_delete", args=[project.pk]), {"confirm": project.name})
    assert s3_media.keys() == []
