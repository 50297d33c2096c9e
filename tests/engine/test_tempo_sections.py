"""The engine reports each song's tempo and its sections in both dialects (`metadata`), in the
shape riffweb's client keeps for the player's bar nudges and section lane."""

from riffweb.upstream.client import song_music
from tests.engine.conftest import VOCAL_LYRICS, generate
from tests.engine.test_lyrics import b_songs


def check(track: dict, duration: float):
    bpm, sections = song_music(track, duration)
    assert 40 <= bpm <= 220
    assert len(sections) >= 2 and {s["kind"] for s in sections} >= {"verse"}
    assert sections[0]["start"] == 0
    assert all(a["end"] <= b["start"] + 0.01 for a, b in zip(sections, sections[1:]))
    assert sections[-1]["end"] <= duration
    # Sections are whole bars: each lasts a multiple of one 4/4 bar at the reported tempo.
    bar = 240 / bpm
    for section in sections:
        bars = (section["end"] - section["start"]) / bar
        assert abs(bars - round(bars)) < 0.02, section


def test_dialect_a_tracks_carry_tempo_and_sections(engine):
    for track in generate(engine, {"tag": "folk", "lyrics": VOCAL_LYRICS, "title": "Tide"}):
        check(track, track["duration"])


def test_dialect_b_songs_carry_tempo_and_sections(engine):
    for song in b_songs(engine, {"prompt_1": "lofi piano", "lyrics": VOCAL_LYRICS}):
        check(song, song["duration_s"])
