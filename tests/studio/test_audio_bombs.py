"""Decompression bombs uploaded through the form: refused with a clear message, nothing
stored, and the web process's memory stays flat (the files are built here with PyAV)."""

import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from riffweb.studio.models import Upload
from tests import audio_bombs

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = 4096
# An hour of stereo audio decoded whole is over a gigabyte; refused from the header, or stopped
# at the cap and summarised as peaks, it is a few megabytes. The margin absorbs the allocator.
MAX_GROWTH_MB = 100


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


class PeakRss:
    """The process's resident size sampled every few milliseconds while the block runs.

    VmHWM would remember an earlier test's high-water mark; this compares current RSS
    during the upload with current RSS just before it.
    """

    def __enter__(self):
        self.before = rss_mb()
        self.peak = self.before
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def growth(self) -> float:
        return self.peak - self.before


@pytest.fixture
def url(project):
    return reverse("studio:upload_create", args=[project.pk])


@pytest.fixture
def stored_files(settings):
    def files():
        return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    return files


BOMBS = {
    "flac-in-mp4": (lambda: audio_bombs.flac_in_mp4(3600), "bomb.m4a",
                    "This m4a file holds flac audio, which we do not take; use an mp3, m4a (AAC) or wav file."),
    "hour-of-flac": (lambda: audio_bombs.long_flac(3600), "bomb.flac",
                     "This is flac audio; use an mp3, m4a (AAC) or wav file."),
    "hour-of-m4a": (lambda: audio_bombs.long_m4a(3600), "bomb.m4a",
                    "This audio is 60 minutes long; the limit is 10 minutes. Trim it and try again."),
    "mp3-whose-header-lies": (lambda: audio_bombs.lying_mp3(declared=5, seconds=900), "bomb.mp3",
                              "This audio is longer than 10 minutes, the limit. Trim it and try again."),
}


@pytest.mark.parametrize("kind", BOMBS)
def test_a_decompression_bomb_is_refused_with_a_message_and_memory_stays_flat(
    owner_client, url, kind, enqueued, stored_files
):
    build, name, message = BOMBS[kind]
    file = SimpleUploadedFile(name, build())
    before = stored_files()
    with PeakRss() as rss:
        response = owner_client.post(url, {"file": file}, **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Upload.objects.exists() and not enqueued
    assert stored_files() == before
    assert rss.growth < MAX_GROWTH_MB, f"{kind}: RSS grew {rss.growth:.0f} MB"


def test_the_limit_is_a_setting(owner_client, url, settings, enqueued):
    settings.RIFFWEB_AUDIO_MAX_SECONDS = 60
    response = owner_client.post(url, {"file": SimpleUploadedFile("a.m4a", audio_bombs.long_m4a(90))}, **HTMX)
    assert "This audio is 90 seconds long; the limit is 60 seconds." in response.content.decode()
    assert not Upload.objects.exists()


def test_the_default_limit_is_ten_minutes(settings):
    assert settings.RIFFWEB_AUDIO_MAX_SECONDS == 600


def test_a_plain_post_of_a_bomb_gets_the_form_back_with_the_message(owner_client, url, enqueued):
    response = owner_client.post(url, {"file": SimpleUploadedFile("bomb.m4a", audio_bombs.flac_in_mp4())})
    assert response.status_code == 200
    assert "holds flac audio, which we do not take" in response.content.decode()
    assert not Upload.objects.exists()
