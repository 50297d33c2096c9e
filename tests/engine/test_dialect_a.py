"""Dialect A over HTTP: generate, topic, feed, audio URLs and upload by URL."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from riffweb import audio
from riffweb.engine.server import EngineConfig, EngineServer

from .conftest import SR, generate, post, tone_wav, wait_tracks

SHORT = {"tag": "pop", "title": "Short", "instrumental": True, "duration": 30}


def test_generate_answers_two_ids_at_once_and_the_feed_reaches_success():
    with EngineServer(EngineConfig(render_delay=0.6)).start() as server:
        started = time.monotonic()
        answer = post(server, "/riffusion/generate", SHORT)
        assert time.monotonic() - started < 0.5
        ids = [job["id"] for job in answer.json()["jobs"]]
        assert len(ids) == 2 and ids[0] != ids[1] and all(len(i) == 32 for i in ids)
        first = requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}").json()
        assert [t["id"] for t in first] == ids
        assert all(t["status"] in ("queued", "process") and t["process"] < 100 for t in first)
        assert all("audio_url" not in t and t["generations"] == [] for t in first)
        seen = set()
        while True:
            feed = requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}").json()
            seen.update(t["process"] for t in feed)
            if all(t["status"] == "success" for t in feed):
                break
            time.sleep(0.05)
        assert len(seen) > 2  # progress rose through intermediate values
        stats = server.stats()
        assert all(stats["tracks"][i]["done_at"] >= started for i in ids)
    track = feed[0]
    assert track["process"] == 100
    assert track["title"] == "Short" and track["tag"] == "pop"
    assert track["audio_url"].startswith(server.url + "/audio/")
    assert track["generations"] == [{"id": track["id"], "audio_url": track["audio_url"], "duration": track["duration"]}]


@pytest.fixture(scope="module")
def pair(engine):
    return generate(engine, SHORT)


@pytest.fixture(scope="module")
def source(pair):
    return pair[0]


def test_audio_url_serves_44k_stereo_mp3_and_wav_of_the_reported_duration(source):
    track = source
    mp3 = requests.get(track["audio_url"])
    assert mp3.headers["Content-Type"] == "audio/mpeg"
    decoded = audio.decode(mp3.content)
    assert decoded.format == "mp3" and decoded.sample_rate == SR and decoded.channels == 2
    assert decoded.duration == pytest.approx(track["duration"], abs=0.1)
    wav = audio.decode(requests.get(track["audio_url"].replace(".mp3", ".wav")).content)
    assert wav.format == "wav" and wav.duration == pytest.approx(track["duration"], abs=0.001)
    assert 30 <= track["duration"] <= 240


def test_feed_takes_many_ids_and_reports_unknown_ones_as_failed(engine, pair):
    a, b = (t["id"] for t in pair)
    feed = requests.get(f"{engine.url}/riffusion/feed/{a},{'0' * 32},{b}").json()
    assert [t["id"] for t in feed] == [a, "0" * 32, b]
    assert feed[1]["status"] == "failed" and feed[1]["error"]


def test_topic_derives_title_lyrics_and_style(engine):
    answer = post(engine, "/riffusion/generate/topic", {"model": "FUZZ-1.1", "topic": "a dusty truck on a country road"})
    assert answer.status_code == 200
    tracks = wait_tracks(engine, [j["id"] for j in answer.json()["jobs"]])
    track = tracks[0]
    assert track["status"] == "success"
    assert track["title"] == "A Dusty Truck On A"
    assert track["tag"] == "country"
    assert "[Chorus]" in track["lyrics"] and "truck" in track["lyrics"].lower()
    stems = requests.get(f"{engine.url}/audio/{track['id']}/vocals.wav")
    assert audio.decode(stems.content).samples.std() > 0.01  # not instrumental: someone sings


def test_upload_by_trusted_url_gives_an_id_usable_as_a_morph_source(engine, trusted_dir):
    (trusted_dir / "riff.wav").write_bytes(tone_wav(31.0))
    answer = post(engine, "/riffusion/upload", {"url": (trusted_dir / "riff.wav").as_uri()})
    assert answer.status_code == 200, answer.text
    upload_id = answer.json()["id"]
    morph = {"audio_upload_id": upload_id, "transform": "swap_vocals"}
    tracks = generate(engine, {"tag": "pop", "lyrics": "[Verse]\nla la la", "morph": morph})
    assert tracks[0]["audio_upload_id"] == upload_id


@pytest.mark.parametrize(
    "url",
    ["http://example.com/song.mp3", "file:///etc/passwd", "https://169.254.169.254/latest/meta-data"],
)
def test_upload_refuses_urls_outside_the_trusted_prefixes(engine, url):
    answer = post(engine, "/riffusion/upload", {"url": url})
    assert answer.status_code == 400
    assert answer.json() == {"error": "url: the engine only fetches from its trusted locations", "code": 400}


class _Redirector(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "/private/secret.wav")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_upload_does_not_follow_a_redirect_out_of_the_trusted_prefix():
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{target.server_address[1]}"
    try:
        with EngineServer(EngineConfig(render_delay=0.0, trusted_url_prefixes=(base + "/public/",))).start() as server:
            answer = post(server, "/riffusion/upload", {"url": base + "/public/song.wav"})
    finally:
        target.shutdown()
        target.server_close()
    assert answer.status_code == 400 and answer.json()["error"].startswith("url: could not be downloaded")


def test_upload_refuses_a_trusted_file_that_is_not_audio(engine, trusted_dir):
    (trusted_dir / "notes.mp3").write_text("not a song")
    answer = post(engine, "/riffusion/upload", {"url": (trusted_dir / "notes.mp3").as_uri()})
    assert answer.status_code == 400 and answer.json()["error"].startswith("url: not audio")


@pytest.mark.parametrize(
    "morph, field",
    [
        ({"transform": "extend"}, "morph.crop_end_at: required"),
        ({"transform": "extend", "crop_end_at": 999}, "morph.crop_end_at: must be inside the source"),
        ({"transform": "inpaint", "replace_start_at": 10, "replace_end_at": 5}, "morph.replace_start_at: must be before"),
        ({"transform": "inpaint", "replace_start_at": 5, "replace_end_at": 5}, "morph.replace_start_at: must be before"),
        ({"transform": "inpaint", "replace_end_at": 5}, "morph.replace_start_at: required"),
        ({"transform": "cover", "normalized_cover_strength": 1.5}, "morph.normalized_cover_strength: must be between 0 and 1"),
        ({"transform": "cover", "normalized_weirdness": -0.1}, "morph.normalized_weirdness: must be between 0 and 1"),
        ({"transform": "cover", "normalized_lyrics_strength": "high"}, "morph.normalized_lyrics_strength: must be a number"),
        ({"transform": "remix"}, "morph.transform: must be one of"),
    ],
)
def test_morph_fields_are_validated_with_a_reason(engine, source, morph, field):
    answer = post(engine, "/riffusion/generate", {"tag": "pop", "morph": {"riff_id": source["id"], **morph}})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 400 and body["error"].startswith(field), body


def test_morph_needs_exactly_one_known_source(engine, source):
    both = {"transform": "cover", "riff_id": source["id"], "audio_upload_id": "x"}
    neither = {"transform": "cover"}
    unknown = {"transform": "cover", "riff_id": "f" * 32}
    unknown_upload = {"transform": "cover", "audio_upload_id": "f" * 32}
    for morph, reason in (
        (both, "morph.riff_id: give either"),
        (neither, "morph.riff_id: give riff_id or audio_upload_id"),
        (unknown, "morph.riff_id: no track with this id"),
        (unknown_upload, "morph.audio_upload_id: no upload with this id"),
    ):
        answer = post(engine, "/riffusion/generate", {"tag": "pop", "morph": morph})
        assert answer.status_code == 400 and answer.json()["error"].startswith(reason), answer.text


def test_generate_validates_top_level_fields(engine):
    for body, reason in (
        ({"model": "FUZZ-9"}, "model: must be one of"),
        ({"lyrics": 12}, "lyrics: must be a string"),
        ({"instrumental": "maybe"}, "instrumental: must be true or false"),
        ({"morph": "cover"}, "morph: must be an object"),
    ):
        answer = post(engine, "/riffusion/generate", body)
        assert answer.status_code == 400 and answer.json()["error"].startswith(reason), answer.text
    raw = requests.post(engine.url + "/riffusion/generate", data=b"{not json", headers={"Content-Type": "application/json"})
    assert raw.status_code == 400 and raw.json() == {"error": "body: not valid JSON", "code": 400}
    assert post(engine, "/riffusion/generate/topic", {}).json() == {"error": "topic: required", "code": 400}


def test_unknown_paths_and_methods_answer_json_errors(engine):
    assert requests.get(engine.url + "/nothing").status_code == 404
    wrong = requests.get(engine.url + "/riffusion/generate")
    assert wrong.status_code == 405 and wrong.json()["code"] == 405
    assert requests.get(f"{engine.url}/audio/{'a' * 32}.mp3").status_code == 404
