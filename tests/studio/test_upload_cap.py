"""An upload larger than the cap is refused before it is written anywhere (over real HTTP)."""

import threading
from pathlib import Path

import pytest
import requests
from django.urls import reverse

from riffweb.studio.models import Upload

CAP = 4 * 2**20
CHUNK = b"\0" * 2**14


class SpoolWatch:
    """The largest file seen in the upload spool folder while a request runs."""

    def __init__(self, folder: Path):
        self.folder, self.largest, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(0.005):
            for path in self.folder.iterdir():
                try:
                    self.largest = max(self.largest, path.stat().st_size)
                except FileNotFoundError:
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def multipart_stream(boundary: str, file_bytes: int):
    """A multipart body made chunk by chunk: never held in memory whole."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nBig\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n"
           "Content-Type: audio/wav\r\n\r\n").encode()
    assert file_bytes % len(CHUNK) == 0
    for _ in range(file_bytes // len(CHUNK)):
        yield CHUNK
    yield f"\r\n--{boundary}--\r\n".encode()


def upload_over_http(live_server, client, owner, project, file_bytes: int) -> requests.Response:
    client.force_login(owner)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.get(f"{live_server.url}{project.get_absolute_url()}", timeout=10)
    boundary = "riffweb-test-boundary"
    head = sum(len(part) for part in multipart_stream(boundary, 0))
    return session.post(
        f"{live_server.url}{reverse('studio:upload_create', args=[project.pk])}",
        data=multipart_stream(boundary, file_bytes),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(head + file_bytes),
            "X-CSRFToken": session.cookies["csrftoken"],
            "HX-Request": "true",
        },
        timeout=60,
    )


@pytest.fixture
def spool(settings, tmp_path) -> Path:
    settings.RIFFWEB_UPLOAD_MAX_BYTES = CAP
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    return tmp_path / "spool"


@pytest.mark.django_db(transaction=True)
def test_a_body_declared_past_the_cap_is_refused_unread_with_the_limit_in_the_message(
    live_server, client, owner, project, spool
):
    with SpoolWatch(spool) as watch:
        response = upload_over_http(live_server, client, owner, project, 64 * 2**20)
    assert response.status_code == 200
    assert "MB; the limit is 4 MB." in response.text
    assert watch.largest == 0  # not one byte spooled
    assert not Upload.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_just_past_the_cap_stops_spooling_at_the_cap(live_server, client, owner, project, spool):
    with SpoolWatch(spool) as watch:
        response = upload_over_http(live_server, client, owner, project, CAP + 32 * 1024)
    assert response.status_code == 200
    assert "MB; the limit is 4 MB." in response.text
    assert 0 < watch.largest <= CAP
    assert not Upload.objects.exists()

