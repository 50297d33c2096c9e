"""The engine's words: when each sung line is heard (both dialects, per line or per word, or left
out) and lyrics written from a prompt."""

import requests

from riffweb.engine.server import EngineConfig, EngineServer
from tests.engine.conftest import VOCAL_LYRICS, generate, post


def lines_of(lyrics: str) -> set[str]:
    return {line for line in lyrics.splitlines() if line and not line.startswith("[")}


def test_dialect_a_tracks_say_when_each_line_is_sung_within_the_song(engine):
    for track in generate(engine, {"tag": "folk", "lyrics": VOCAL_LYRICS, "title": "Tide"}):
        timed = track["lyrics_timestamped"]
        assert {line["text"] for line in timed} == lines_of(VOCAL_LYRICS)
        starts = [line["start"] for line in timed]
        assert starts == sorted(starts)
        assert all(0 < line["start"] < line["end"] <= track["duration"] for line in timed)


def test_an_instrumental_has_no_timed_lines(engine):
    for track in generate(engine, {"tag": "folk", "lyrics": VOCAL_LYRICS, "instrumental": True}):
        assert track["lyrics_timestamped"] == []


def b_songs(server, body: dict) -> list[dict]:
    import time

    job = post(server, "/v1/riffusion/music/create-compose", body).json()["job_id"]
    for _ in range(600):
        songs = requests.get(f"{server.url}/v1/riffusion/music/?id={job}", timeout=30).json()
        if all(s["status"] == "completed" for s in songs):
            return songs
        time.sleep(0.05)
    raise AssertionError(songs)


def test_dialect_b_gives_lines_or_words_or_nothing_as_configured():
    body = {"prompt_1": "folk", "lyrics": VOCAL_LYRICS}
    with EngineServer(EngineConfig(render_delay=0.0, timed_lyrics="words")).start() as server:
        words = b_songs(server, body)[0]["lyrics_timestamped"]
    assert words[0]["word"] == "Sing " and set(words[0]) == {"word", "start_s", "end_s"}
    assert "".join(w["word"] for w in words).splitlines()[0] == "Sing me a song of the morning"
    with EngineServer(EngineConfig(render_delay=0.0, timed_lyrics="none")).start() as server:
        assert "lyrics_timestamped" not in b_songs(server, body)[0]
    with EngineServer(EngineConfig(render_delay=0.0)).start() as server:
        song = b_songs(server, body)[0]
    assert set(song["lyrics_timestamped"][0]) == {"text", "start_s", "end_s"}
    assert song["lyrics_timestamped"][-1]["end_s"] <= song["duration_s"]


def test_generate_lyrics_writes_sections_from_the_prompt_the_same_each_time(engine):
    first = post(engine, "/v1/riffusion/music/generate-lyrics", {"prompt": "harbour lights at night"})
    again = post(engine, "/v1/riffusion/music/generate-lyrics", {"prompt": "harbour lights at night"})
    other = post(engine, "/v1/riffusion/music/generate-lyrics", {"prompt": "desert wind"})
    assert first.status_code == 200 and first.json() == again.json()
    lyrics = first.json()["lyrics"]
    assert lyrics.startswith("[Verse]\n") and "\n[Chorus]\n" in lyrics and "harbour" in lyrics
    assert other.json()["lyrics"] != lyrics
    missing = post(engine, "/v1/riffusion/music/generate-lyrics", {})
    assert missing.status_code == 400 and missing.json()["error"].startswith("prompt")
    assert post(engine, "/v1/riffusion/music/generate-lyrics", {"prompt": "forbidden love"}).status_code == 422
