"""Fixtures shared by every test folder: people, projects and songs with real audio."""

import io

import numpy as np
import pytest
from PIL import Image
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from riffweb import queue
from riffweb.audio import encode_wav
from riffweb.studio.models import Membership, Project, Song, Transform
from tests.s3 import bucket, s3_media, s3_server  # noqa: F401  (fixtures for every folder)

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_user(username: str):
    return get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple]]:
    """What was handed to the broker, as (task path, args), instead of a real broker."""
    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, **kwargs: sent.append((func, args)) or True)
    return sent


def submitted(sent) -> list[int]:
    return [args[0] for func, args in sent if func == queue.SUBMIT]


@pytest.fixture
def owner(db):
    return make_user("olivia")


@pytest.fixture
def stranger(db):
    return make_user("sam")


@pytest.fixture
def project(owner):
    return Project.create_for(owner, name="Night drive")


def add_member(project, username: str, role: str):
    user = make_user(username)
    Membership.objects.create(project=project, user=user, role=role)
    return user


@pytest.fixture
def viewer(project):
    return add_member(project, "vera", Membership.Role.VIEWER)


@pytest.fixture
def editor(project):
    return add_member(project, "ed", Membership.Role.EDITOR)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def tone_wav(seconds: float = 2.0, rate: int = 44100) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return encode_wav(np.stack([wave, wave], axis=1), rate)


def jpeg(side: int = 32) -> bytes:
    """A small cover image, as riffweb keeps them (riffweb/artwork.py re-encodes to JPEG)."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def make_request(project, user=None, **fields) -> Transform:
    """A professional-mode request with its two variants, as the form creates them."""
    fields = {"mode": Transform.Mode.PROFESSIONAL, "title": "Neon rain", "tags": "synthwave",
              "lyrics": "[Verse]\nCity lights", "model": "FUZZ-1.1", **fields}
    transform = Transform.objects.create(project=project, created_by=user, **fields)
    for variant in (0, 1):
        Song.of(transform, variant=variant).save(force_insert=True)
    return transform


def finish_song(song: Song, seconds: float = 2.0) -> Song:
    song.audio.save(f"song-{song.pk}.wav", ContentFile(tone_wav(seconds)), save=False)
    song.audio_format, song.duration, song.status, song.progress = "wav", seconds, Song.Status.DONE, 100
    song.save()
    return song


@pytest.fixture
def request_with_songs(project, owner) -> Transform:
    return make_request(project, owner)


@pytest.fixture
def done_song(request_with_songs) -> Song:
    return finish_song(request_with_songs.songs.get(variant=0))
