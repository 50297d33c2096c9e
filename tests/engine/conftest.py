"""Fixtures for the engine tests: a running engine over loopback HTTP, plus small
helpers to create songs, wait for them and decode their audio.

These tests need no database; they run with or without pytest-django:
    .venv/bin/python -m pytest tests/engine
    .venv/bin/python -m pytest -p no:django --confcutdir=tests/engine tests/engine
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import requests

from riffweb import audio
from riffweb.engine.server import EngineConfig, EngineServer

SR = 44100
VOCAL_LYRICS = "[Verse]\nSing me a song of the morning\nCarry me home on the tide\n[Chorus]\nOh we are alive tonight\nHold me close and hold me tight"


@pytest.fixture(scope="session")
def trusted_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("trusted")


@pytest.fixture(scope="session")
def engine(trusted_dir):
    """A shared engine with no render delay, for tests that only care about results."""
    config = EngineConfig(
        render_delay=0.0,
        max_jobs=1000,
        moderation_words=("forbidden",),
        fail_render_words=("failrender",),
        trusted_url_prefixes=(trusted_dir.as_uri() + "/",),
    )
    with EngineServer(config).start() as server:
        yield server


def post(server, path: str, body: dict | None = None, **kwargs) -> requests.Response:
    return requests.post(server.url + path, json=body, timeout=30, **kwargs)


def wait_tracks(server, ids: list[str], timeout: float = 60.0) -> list[dict]:
    """Poll the dialect-A feed until every track is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        feed = requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}", timeout=30).json()
        if all(t["status"] in ("success", "failed") for t in feed):
            return feed
        assert time.monotonic() < deadline, f"tracks still running: {feed}"
        time.sleep(0.05)


def generate(server, body: dict) -> list[dict]:
    """Dialect-A generate, waited for; returns both finished track objects."""
    answer = post(server, "/riffusion/generate", body)
    assert answer.status_code == 200, answer.text
    tracks = wait_tracks(server, [j["id"] for j in answer.json()["jobs"]])
    assert [t["status"] for t in tracks] == ["success", "success"], tracks
    return tracks


def wav(server, track_id: str, stem: str | None = None) -> np.ndarray:
    """A track (or one stem) decoded from the engine's WAV download."""
    path = f"/audio/{track_id}/{stem}.wav" if stem else f"/audio/{track_id}.wav"
    answer = requests.get(server.url + path, timeout=30)
    assert answer.status_code == 200, answer.text
    decoded = audio.decode(answer.content)
    assert decoded.sample_rate == SR
    return decoded.samples


def seconds(t: float) -> int:
    return int(round(t * SR))


def tone_wav(seconds_long: float, bpm: float = 120.0) -> bytes:
    """A clicky A-minor loop at a known tempo, as WAV bytes: a stand-in upload."""
    n = seconds(seconds_long)
    t = np.arange(n) / SR
    beat = 60.0 / bpm
    phase = t % beat
    click = np.exp(-phase * 40.0) * np.sin(2 * np.pi * 80 * t)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63)) / 6
    samples = (0.5 * click + 0.3 * chord).astype(np.float32)
    return audio.encode_wav(np.stack([samples, samples], axis=1), SR)
