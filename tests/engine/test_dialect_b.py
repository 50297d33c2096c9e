"""Dialect B over HTTP: compose, prompt, status, upload, download and callbacks."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from riffweb import audio

from .conftest import SR, post, seconds, tone_wav, wav

MUSIC = "/v1/riffusion/music/"
SONG_FIELDS = {
    "id", "title", "lyrics", "sound", "duration_s", "status", "progress", "download_url", "image_url",
    "share_url", "transform", "parent_riff_id", "audio_upload_id", "simple_waveform", "created_at",
}


def wait_job(server, job_id: str, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        songs = requests.get(server.url + MUSIC, params={"id": job_id}).json()
        if all(s["status"] in ("completed", "failed") for s in songs):
            return songs
        assert time.monotonic() < deadline, songs
        time.sleep(0.05)


def compose(server, **fields) -> list[dict]:
    body = {"prompt_1": "house", "duration": 30, **fields}
    answer = post(server, MUSIC + "create-compose", body)
    assert answer.status_code == 200, answer.text
    return wait_job(server, answer.json()["job_id"])


def test_create_compose_answers_a_job_whose_two_songs_complete(engine):
    answer = post(engine, MUSIC + "create-compose", {"prompt_1": "country", "duration": 30, "user_id": "ana"})
    body = answer.json()
    assert set(body) == {"job_id", "user_id"} and body["user_id"] == "ana"
    songs = wait_job(engine, body["job_id"])
    assert len(songs) == 2 and songs[0]["id"] != songs[1]["id"]
    song = songs[0]
    assert SONG_FIELDS <= set(song)
    assert song["status"] == "completed" and song["progress"] == 100
    assert song["lyrics"] == "[Instrumental]" and song["sound"] == "country"
    assert song["image_url"].endswith(f"/image/{song['id']}.png") and len(song["simple_waveform"]) > 50
    assert song["created_at"].endswith("Z")
    mp3 = audio.decode(requests.get(song["download_url"]).content)
    assert mp3.sample_rate == SR and mp3.duration == pytest.approx(song["duration_s"], abs=0.1)
    single = requests.get(engine.url + MUSIC, params={"id": song["id"]}).json()
    assert [s["id"] for s in single] == [song["id"]]


@pytest.fixture(scope="module")
def song(engine):
    return compose(engine)[0]


def test_music_without_id_lists_recent_songs_with_offset_and_limit(engine, song):
    listed = requests.get(engine.url + MUSIC, params={"limit": 2}).json()
    assert len(listed) == 2
    later = requests.get(engine.url + MUSIC, params={"limit": 1, "offset": 1}).json()
    assert later[0]["id"] == listed[1]["id"]


def test_create_prompt_writes_its_own_lyrics(engine):
    answer = post(engine, MUSIC + "create-prompt", {"prompt": "rain on a sunday morning", "instrumental": False})
    songs = wait_job(engine, answer.json()["job_id"])
    assert songs[0]["status"] == "completed"
    assert songs[0]["sound"] == "lofi" and "[Verse]" in songs[0]["lyrics"]


def test_compose_accepts_multipart_form_fields(engine):
    files = {"prompt_1": (None, "ambient"), "duration": (None, "30"), "instrumental": (None, "true")}
    answer = requests.post(engine.url + MUSIC + "create-compose", files=files)
    assert answer.status_code == 200, answer.text
    assert wait_job(engine, answer.json()["job_id"])[0]["sound"] == "ambient"


@pytest.mark.parametrize(
    "body, reason",
    [
        ({}, "prompt_1: required"),
        ({"prompt_1": "pop", "prompt_1_strength": 10}, "prompt_1_strength: must be between 20 and 100"),
        ({"prompt_1": "pop", "prompt_2": "jazz", "prompt_2_start": 80, "prompt_2_end": 20}, "prompt_2_start: must be before"),
        ({"prompt_1": "pop", "lyrics_strength": 101}, "lyrics_strength: must be between 0 and 100"),
        ({"prompt_1": "pop", "seed": -1}, "seed: must be between 0 and 2147483647"),
        ({"prompt_1": "pop", "seed": 1.5}, "seed: must be a whole number"),
        ({"prompt_1": "pop", "maxJobs": 11}, "maxJobs: must be between 1 and 10"),
        ({"prompt_1": "pop", "replyUrl": "ftp://x"}, "replyUrl: must be an http(s) URL"),
        ({"prompt_1": "pop", "replyRef": "x" * 1025}, "replyRef: longer than 1024"),
        ({"prompt_1": "pop", "transform": "swap_vocals", "riff_id": "a"}, "transform: must be one of cover, extend, inpaint"),
        ({"prompt_1": "pop", "transform": "cover"}, "riff_id: give riff_id or audio_upload_id"),
        ({"prompt_1": "pop", "riff_id": "a" * 32}, "transform: required with riff_id"),
        ({"prompt_1": "pop", "transform": "cover", "riff_id": "a" * 32}, "riff_id: no track with this id"),
    ],
)
def test_compose_fields_are_validated_with_a_reason(engine, body, reason):
    answer = post(engine, MUSIC + "create-compose", body)
    assert answer.status_code == 400
    assert answer.json()["code"] == 400 and answer.json()["error"].startswith(reason), answer.text


def test_transform_fields_need_their_times(engine, song):
    for extra, reason in (
        ({"transform": "extend"}, "extend_after_seconds: required"),
        ({"transform": "extend", "extend_after_seconds": 500}, "extend_after_seconds: must be inside"),
        ({"transform": "inpaint", "replace_start_seconds": 3}, "replace_end_seconds: required"),
        ({"transform": "inpaint", "replace_start_seconds": 9, "replace_end_seconds": 2}, "replace_start_seconds: must be before"),
        ({"transform": "cover", "audio_upload_id": "x"}, "riff_id: give either riff_id or audio_upload_id"),
    ):
        answer = post(engine, MUSIC + "create-compose", {"prompt_1": "pop", "riff_id": song["id"], **extra})
        assert answer.status_code == 400 and answer.json()["error"].startswith(reason), answer.text


def test_upload_audio_takes_raw_bytes_and_reports_transcription_status(engine):
    answer = requests.post(
        engine.url + MUSIC + "upload-audio/",
        params={"file_name": "riff.wav"},
        data=tone_wav(31.0),
        headers={"Content-Type": "audio/wav"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == f"{body['audio_upload_id']}:{body['transcription_job_id']}"
    assert body["is_flagged"] is False
    status = requests.get(engine.url + MUSIC + "upload-audio/", params={"id": body["id"]}).json()
    assert status["status"] == "completed" and status["audio_upload_id"] == body["audio_upload_id"]
    assert status["duration_s"] == pytest.approx(31.0, abs=0.01)
    songs = compose(engine, transform="extend", audio_upload_id=body["audio_upload_id"], extend_after_seconds=10)
    assert songs[0]["status"] == "completed" and songs[0]["audio_upload_id"] == body["audio_upload_id"]


@pytest.mark.parametrize(
    "ctype, data, reason",
    [
        ("text/plain", b"hello", "Content-Type: must be audio/mpeg"),
        ("audio/mpeg", b"", "body: the raw audio bytes are required"),
        ("audio/mpeg", b"this is not an mp3 at all" * 20, "body: not audio we can read"),
    ],
)
def test_upload_audio_rejects_wrong_types_and_non_audio(engine, ctype, data, reason):
    answer = requests.post(engine.url + MUSIC + "upload-audio/", data=data, headers={"Content-Type": ctype})
    assert answer.status_code == 400 and answer.json()["error"].startswith(reason), answer.text


def test_download_gives_mp3_wav_and_stem_links(engine, song):
    url = engine.url + MUSIC + "download/"
    mp3 = requests.get(url, params={"id": song["id"], "download_format": "mp3"})
    assert mp3.headers["Content-Type"] == "audio/mpeg" and audio.decode(mp3.content).format == "mp3"
    wav = requests.get(url, params={"id": song["id"], "download_format": "wav"})
    assert audio.decode(wav.content).duration == pytest.approx(song["duration_s"], abs=0.001)
    stems = requests.get(url, params={"id": song["id"], "download_format": "stems"}).json()["stems"]
    assert [s["name"] for s in stems] == ["vocals", "instrumental"]
    for stem in stems:
        decoded = audio.decode(requests.get(stem["wav_url"]).content)
        assert decoded.format == "wav" and decoded.duration == pytest.approx(song["duration_s"], abs=0.001)
    assert audio.decode(requests.get(stems[1]["wav_url"]).content).samples.std() > 0.01
    assert requests.get(url, params={"id": song["id"], "download_format": "flac"}).status_code == 400
    assert requests.get(url, params={"id": "f" * 32}).status_code == 404


def test_unknown_ids_are_404_with_a_reason(engine):
    for path in (MUSIC, MUSIC + "upload-audio/"):
        answer = requests.get(engine.url + path, params={"id": "f" * 32})
        assert answer.status_code == 404 and answer.json()["code"] == 404


class _Collector(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_reply_url_gets_every_status_change_with_reply_ref(engine):
    handler = type("Collector", (_Collector,), {"received": []})
    target = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    try:
        reply = f"http://127.0.0.1:{target.server_address[1]}/hook"
        answer = post(engine, MUSIC + "create-compose", {"prompt_1": "pop", "duration": 30, "replyUrl": reply, "replyRef": "song-42"})
        job_id = answer.json()["job_id"]
        wait_job(engine, job_id)
        deadline = time.monotonic() + 10
        while not (handler.received and all(s["status"] == "completed" for s in handler.received[-1]["songs"])):
            assert time.monotonic() < deadline, handler.received
            time.sleep(0.05)
    finally:
        target.shutdown()
        target.server_close()
    calls = handler.received
    assert all(c["replyRef"] == "song-42" and c["job_id"] == job_id for c in calls)
    assert calls[0]["songs"][0]["status"] == "queued"
    assert any(s["status"] == "processing" for c in calls for s in c["songs"])
    assert len(calls) >= 3 and len(calls[-1]["songs"]) == 2


def test_a_dead_reply_url_does_not_stop_rendering(engine):
    before = engine.stats()["counts"].get("callbacks_failed", 0)
    answer = post(engine, MUSIC + "create-compose", {"prompt_1": "pop", "duration": 30, "replyUrl": "http://127.0.0.1:9/gone"})
    songs = wait_job(engine, answer.json()["job_id"])
    assert [s["status"] for s in songs] == ["completed", "completed"]
    deadline = time.monotonic() + 10
    while engine.stats()["counts"].get("callbacks_failed", 0) <= before:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_compose_transforms_inpaint_and_cover_a_finished_song(engine, song):
    source = wav(engine, song["id"])
    inpainted = compose(engine, transform="inpaint", riff_id=song["id"], replace_start_seconds=5, replace_end_seconds=12, seed=3)[0]
    assert inpainted["parent_riff_id"] == song["id"] and inpainted["transform"] == "inpaint"
    out = wav(engine, inpainted["id"])
    assert abs(out[: seconds(5)] - source[: seconds(5)]).max() <= 1.01 / 32767
    assert abs(out[seconds(12) :] - source[seconds(12) :]).max() <= 1.01 / 32767
    covered = compose(engine, transform="cover", riff_id=song["id"], prompt_1="jazz", cover_variation=20, seed=3)[0]
    assert covered["status"] == "completed" and covered["duration_s"] == song["duration_s"]
