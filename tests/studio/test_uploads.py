"""Uploads: real mp3, m4a and wav files are checked by decoding; everything else gets a message."""

import io

import av
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from riffweb.audio import encode_mp3, encode_wav
from riffweb import queue
from riffweb.studio import tasks
from riffweb.studio.models import Upload

HTMX = {"HTTP_HX_REQUEST": "true"}
RATE = 44100


def tone(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    return np.stack([wave, wave], axis=1)


def encode_m4a(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=RATE)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout="stereo")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


FILES = {
    "mp3": lambda: encode_mp3(tone(), RATE),
    "m4a": lambda: encode_m4a(tone()),
    "wav": lambda: encode_wav(tone(), RATE),
}


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.RIFFWEB_PUBLIC_URL = "https://studio.example.com"


@pytest.fixture
def handed(monkeypatch):
    """The uploads handed to the broker, as ("send" | "fetch", upload pk)."""
    sent = []
    names = {queue.SEND_UPLOAD: "send", queue.FETCH_LINK: "fetch"}

    def enqueue(func, *args, **kwargs):
        if func in names:
            sent.append((names[func], args[0]))
        return True

    monkeypatch.setattr(queue, "enqueue", enqueue)
    return sent


@pytest.fixture
def url(project):
    return reverse("studio:upload_create", args=[project.pk])


@pytest.mark.parametrize("kind", ["mp3", "m4a", "wav"])
def test_a_real_audio_file_is_stored_with_duration_and_peaks(
    owner_client, url, kind, handed, django_capture_on_commit_callbacks
):
    file = SimpleUploadedFile(f"take-one.{kind}", FILES[kind]())
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, {"file": file}, **HTMX)
    upload = Upload.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == upload.get_absolute_url()
    assert (upload.title, upload.audio_format, upload.status) == ("take-one", kind, "pending")
    assert upload.duration == pytest.approx(2.0, abs=0.1)
    assert len(upload.peaks) == 800 and max(upload.peaks) > 0.2
    assert upload.audio.size > 0
    assert handed == [("send", upload.pk)]


def test_a_plain_post_redirects_to_the_upload_page(owner_client, url, handed):
    response = owner_client.post(url, {"file": SimpleUploadedFile("a.wav", FILES["wav"]()), "title": "Demo"})
    assert response.status_code == 302
    assert response["Location"] == Upload.objects.get(title="Demo").get_absolute_url()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.mp3", b"These are my lyrics, not audio.\n" * 50, "This file is not audio we can read"),
        ("photo.wav", b"\x89PNG\r\n\x1a\n" + bytes(4000), "This file is not audio we can read"),
        ("empty.mp3", b"", "The file is empty."),
    ],
)
def test_a_file_that_is_not_audio_gets_a_message(owner_client, url, name, content, message, handed):
    response = owner_client.post(url, {"file": SimpleUploadedFile(name, content)}, **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Upload.objects.exists() and not handed


def test_an_oversized_file_is_refused_before_decoding(owner_client, url, settings, handed):
    settings.RIFFWEB_UPLOAD_MAX_BYTES = 50_000
    big = FILES["wav"]()  # about 350 kB
    response = owner_client.post(url, {"file": SimpleUploadedFile("big.wav", big)}, **HTMX)
    assert "MB; the limit is 0.0477 MB." in response.content.decode()
    assert not Upload.objects.exists()


def test_the_default_limit_is_50_mb(settings):
    assert settings.RIFFWEB_UPLOAD_MAX_BYTES == 50 * 1024 * 1024


def test_a_file_or_a_link_is_needed(owner_client, url, handed):
    response = owner_client.post(url, {"title": "Nothing"}, **HTMX)
    assert "Choose a file or paste a link (one of the two)." in response.content.decode()
    assert not Upload.objects.exists()


def test_a_link_is_fetched_in_the_background_not_in_the_request(
    owner_client, url, handed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url, {"url": "https://example.com/songs/demo-take.mp3"}, **HTMX)
    upload = Upload.objects.get()
    assert (upload.source_url, upload.title, upload.status) == (
        "https://example.com/songs/demo-take.mp3", "demo-take", "pending")
    assert not upload.audio
    assert handed == [("fetch", upload.pk)]


@pytest.mark.parametrize("link", ["ftp://example.com/a.mp3", "file:///etc/passwd", "javascript:alert(1)"])
def test_only_http_links_are_taken(owner_client, url, link, handed):
    response = owner_client.post(url, {"url": link}, **HTMX)
    page = response.content.decode()
    assert "Only http and https links can be fetched." in page or "Enter a valid URL." in page
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("http://127.0.0.1:8000/media/secret.wav", "private network"),
        ("http://[::ffff:10.0.0.1]/a.mp3", "private network"),
        ("http://169.254.169.254/latest/meta-data", "private network"),
    ],
)
def test_the_fetch_task_refuses_private_addresses(project, owner, link, message):
    upload = Upload.objects.create(project=project, created_by=owner, title="x", source_url=link)
    assert tasks.fetch_upload(upload.pk) == "fetch failed"
    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert message in upload.error and not upload.audio


def test_the_fetch_task_runs_once(project, owner):
    upload = Upload.objects.create(project=project, created_by=owner, title="x",
                                   source_url="https://example.com/a.mp3", status=Upload.Status.READY)
    assert tasks.fetch_upload(upload.pk) == "nothing to fetch"


def test_uploads_say_when_the_public_address_is_missing(owner_client, project, url, settings, handed):
    settings.RIFFWEB_PUBLIC_URL = ""
    page = owner_client.get(project.get_absolute_url() + "?mode=upload").content.decode()
    assert "set RIFFWEB_PUBLIC_URL" in page
    response = owner_client.post(url, {"file": SimpleUploadedFile("a.wav", FILES["wav"]())}, **HTMX)
    assert "set RIFFWEB_PUBLIC_URL" in response.content.decode()
    assert not Upload.objects.exists()


def test_uploads_need_no_public_address_on_the_byte_dialect(owner_client, url, settings, handed):
    settings.RIFFWEB_PUBLIC_URL, settings.RIFFWEB_UPSTREAM_DIALECT = "", "useapi"
    owner_client.post(url, {"file": SimpleUploadedFile("a.wav", FILES["wav"]())}, **HTMX)
    assert Upload.objects.count() == 1


def test_a_viewer_cannot_upload(client, viewer, url, handed):
    client.force_login(viewer)
    response = client.post(url, {"file": SimpleUploadedFile("a.wav", FILES["wav"]())})
    assert response.status_code == 403


# --- the upload's page ----------------------------------------------------------------------


@pytest.fixture
def upload(project, owner):
    upload = Upload(project=project, created_by=owner, title="Demo take", audio_format="wav", duration=2.0)
    upload.audio.save("u.wav", ContentFile(FILES["wav"]()), save=True)
    return upload


def status(client, upload):
    return client.get(upload.get_absolute_url(), HTTP_HX_TARGET=f"upload-status-{upload.pk}", **HTMX)


def test_the_upload_page_polls_its_processing_state(owner_client, upload):
    response = status(owner_client, upload)
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_a_ready_upload_stops_polling_and_reloads_for_its_player(owner_client, upload):
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.READY)
    response = status(owner_client, upload)
    assert response.status_code == 286
    assert response["HX-Refresh"] == "true"


def test_a_flagged_upload_says_so(owner_client, upload):
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.FLAGGED, error="it sounds like a known recording")
    response = status(owner_client, upload)
    assert response.status_code == 286
    assert "The music service flagged this upload: it sounds like a known recording" in response.content.decode()
    page = owner_client.get(upload.get_absolute_url()).content.decode()
    assert "This upload is not ready to transform (flagged by the music service)." in page


def test_the_upload_page_draws_its_waveform_and_serves_its_audio(owner_client, upload):
    page = owner_client.get(upload.get_absolute_url()).content.decode()
    assert "data-player" in page and reverse("studio:upload_audio", args=[upload.pk]) in page
    upload.refresh_from_db()
    assert upload.peaks == []  # a page view never decodes or writes: the browser draws it from the audio
    audio = owner_client.get(reverse("studio:upload_audio", args=[upload.pk]), HTTP_RANGE="bytes=0-99")
    assert audio.status_code == 206 and audio["Content-Type"] == "audio/wav"


def test_strangers_do_not_see_uploads(client, stranger, upload):
    client.force_login(stranger)
    assert client.get(upload.get_absolute_url()).status_code == 404
    assert client.get(reverse("studio:upload_audio", args=[upload.pk])).status_code == 404


def test_a_link_whose_fetch_was_lost_ends_failed_with_a_message(project, owner):
    from datetime import timedelta

    from django.utils import timezone

    from riffweb.upstream import uploads

    old = Upload.objects.create(project=project, created_by=owner, title="lost",
                                source_url="https://example.com/a.mp3",
                                created_at=timezone.now() - timedelta(minutes=6))
    fresh = Upload.objects.create(project=project, created_by=owner, title="fetching",
                                  source_url="https://example.com/b.mp3")
    uploads.uploads_due(timezone.now())
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == Upload.Status.FAILED
    assert "could not fetch that link in time" in old.error
    assert fresh.status == Upload.Status.PENDING
