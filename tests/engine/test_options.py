"""The engine's benchmark and demo options: song_seconds, eager_mp3 and prerendered."""

import signal
import subprocess
import sys

import requests

from riffweb import audio
from riffweb.engine.server import EngineConfig, EngineServer

from .conftest import generate, wait_tracks


def test_song_seconds_renders_every_song_at_about_that_length_even_under_30_s(engine):
    with EngineServer(EngineConfig(render_delay=0.0, song_seconds=10.0)).start() as short:
        plain = generate(short, {"tag": "synthwave", "instrumental": True})
        asked_long = generate(short, {"tag": "house", "instrumental": True, "duration": 120})
    # A song has at least eight bars, so 10 s asked gives 10 to 16 s here.
    for track in plain + asked_long:
        assert 8.0 <= track["duration"] <= 17.0, track["duration"]
    # Without the option nothing changes: the 30 s floor holds.
    normal = generate(engine, {"tag": "synthwave", "instrumental": True, "duration": 10})
    assert all(t["duration"] >= 30.0 for t in normal)


def test_eager_mp3_encodes_the_mix_when_the_render_finishes(tmp_path):
    for eager in (False, True):
        data = tmp_path / f"eager-{eager}"
        config = EngineConfig(render_delay=0.0, song_seconds=6.0, eager_mp3=eager, data_dir=str(data))
        with EngineServer(config).start() as server:
            tracks = generate(server, {"tag": "lofi", "instrumental": True})
            ids = [t["id"] for t in tracks]
            # Done, and nothing downloaded yet: the MP3 exists only when encoded eagerly.
            assert [(data / i / "mix.mp3").exists() for i in ids] == [eager, eager]
            answer = requests.get(tracks[0]["audio_url"], timeout=30)
            assert answer.status_code == 200
            assert audio.decode(answer.content).format == "mp3"
            assert (data / ids[0] / "mix.mp3").read_bytes() == answer.content


def test_prerendered_serves_its_clips_as_every_generated_track_and_still_renders_transforms(tmp_path):
    data = tmp_path / "clips"
    config = EngineConfig(render_delay=0.0, song_seconds=5.0, eager_mp3=True, prerendered=2, data_dir=str(data))
    with EngineServer(config).start() as server:
        assert len(list(data.iterdir())) == 2  # rendered (and encoded) before the first request
        tracks = generate(server, {"tag": "metal", "title": "One"}) + generate(server, {"tag": "jazz"})
        files = [requests.get(t["audio_url"], timeout=30).content for t in tracks]
        assert len(set(files)) == 2 and set(files[:2]) == set(files[2:])  # the two clips, in turn
        assert all(audio.decode(f).format == "mp3" and t["duration"] < 30 for f, t in zip(files, tracks))
        assert [t["title"] for t in tracks[:2]] == ["One", "One"]
        # Covers too come from as many pictures as clips (drawing one costs ~40 ms of CPU).
        covers = {requests.get(t["image_url"], timeout=30).content for t in tracks}
        assert 1 <= len(covers) <= 2 and all(c.startswith(b"\x89PNG") for c in covers)
        cover = generate(server, {"tag": "lofi", "morph": {"transform": "cover", "riff_id": tracks[0]["id"],
                                                               "normalized_cover_strength": 0.5}})
        assert len(list(data.iterdir())) == 4  # a transform's tracks are rendered from their source
        assert all(requests.get(t["audio_url"], timeout=30).status_code == 200 for t in cover)


def test_the_command_line_takes_both_options():
    process = subprocess.Popen(
        [sys.executable, "-m", "riffweb.engine", "--port", "0", "--render-delay", "0",
         "--song-seconds", "5", "--eager-mp3", "--prerendered", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        jobs = requests.post(url + "/riffusion/generate", json={"tag": "pop", "instrumental": True}, timeout=10).json()["jobs"]

        class Server:
            pass

        server = Server()
        server.url = url
        tracks = wait_tracks(server, [j["id"] for j in jobs])
        assert all(t["status"] == "success" and t["duration"] < 30 for t in tracks), tracks
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
