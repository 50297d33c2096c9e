"""The engine's previews and cover art: a preview before success in both dialects (part way
through the render time, shorter than the song), seeded cover images, and the options that
turn either off."""

import io
import time

import pytest
import requests
from PIL import Image

from riffweb import audio
from riffweb.engine.server import EngineConfig, EngineServer

TAG = {"model": "FUZZ-1.1", "tag": "synthwave", "instrumental": True, "seed": 7}


def feed(server, ids):
    return requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}", timeout=30).json()


def song(server, job_id):
    return requests.get(f"{server.url}/v1/riffusion/music/?id={job_id}", timeout=30).json()


def watch(ask, seconds=20.0):
    """Every answer until the first track is done."""
    answers, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        answers.append((time.monotonic(), ask()))
        if answers[-1][1][0]["status"] in ("success", "completed"):
            return answers
        time.sleep(0.1)
    raise AssertionError(answers[-1])


@pytest.fixture(scope="module")
def engine():
    with EngineServer(EngineConfig(render_delay=4.0, song_seconds=5.0)).start() as server:
        yield server


def test_dialect_a_lists_a_preview_in_generations_before_success(engine):
    started = time.monotonic()
    ids = [j["id"] for j in requests.post(engine.url + "/riffusion/generate", json=TAG, timeout=30).json()["jobs"]]
    answers = watch(lambda: feed(engine, ids))
    early = [(at, a[0]) for at, a in answers if a[0]["status"] == "process" and a[0]["generations"]]
    assert early, "no preview before success"
    at, track = early[0]
    assert at - started >= 0.4 * 4.0 - 0.2 and track["process"] < 100 and "audio_url" not in track
    preview = requests.get(track["generations"][0]["audio_url"], timeout=30)
    final = requests.get(answers[-1][1][0]["audio_url"], timeout=30)
    assert audio.decode(preview.content).duration < audio.decode(final.content).duration


def test_dialect_b_says_streaming_with_the_song_so_far(engine):
    job = requests.post(engine.url + "/v1/riffusion/music/create-compose", json={"prompt_1": "jazz"}, timeout=30).json()
    answers = watch(lambda: song(engine, job["job_id"]))
    streaming = [a[0] for _, a in answers if a[0]["status"] == "streaming"]
    assert streaming and streaming[0]["download_url"].endswith("/preview.mp3")
    assert streaming[0]["progress"] < 100 and answers[-1][1][0]["download_url"].endswith(".mp3")
    assert audio.decode(requests.get(streaming[0]["download_url"], timeout=30).content).duration >= 4.9


def test_the_same_seed_draws_the_same_cover_and_the_other_variant_another(engine):
    def covers():
        ids = [j["id"] for j in requests.post(engine.url + "/riffusion/generate", json=TAG, timeout=30).json()["jobs"]]
        return [requests.get(t["image_url"], timeout=30).content for t in feed(engine, ids)]

    first, again = covers(), covers()
    assert first == again and first[0] != first[1]
    picture = Image.open(io.BytesIO(first[0]))
    assert (picture.format, picture.size) == ("PNG", (256, 256))


def test_previews_and_images_can_be_turned_off():
    with EngineServer(EngineConfig(render_delay=2.0, song_seconds=5.0, previews=False, images=False)).start() as server:
        ids = [j["id"] for j in requests.post(server.url + "/riffusion/generate", json=TAG, timeout=30).json()["jobs"]]
        answers = watch(lambda: feed(server, ids))
        job = requests.post(server.url + "/v1/riffusion/music/create-compose", json={"prompt_1": "jazz"}, timeout=30).json()
        b_answers = watch(lambda: song(server, job["job_id"]))
    assert all(not a[0]["generations"] and a[0]["image_url"] is None for _, a in answers[:-1])
    assert {a[0]["status"] for _, a in b_answers} <= {"queued", "processing", "completed"}
    assert all(a[0]["image_url"] is None for _, a in b_answers)


def test_an_unknown_image_fault_is_refused():
    with pytest.raises(ValueError, match="image_fault"):
        EngineServer(EngineConfig(image_fault="huge")).start()
