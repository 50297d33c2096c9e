"""The music itself, measured on decoded audio: styles, structure, vocals, determinism."""

import numpy as np
import pytest
import requests

from riffweb.engine import analysis
from riffweb.engine.composer import Prompt, SongSpec, plan_song
from riffweb.engine.voice import syllables

from .conftest import SR, VOCAL_LYRICS, generate, seconds, wav
from .test_dialect_b import compose

STYLES = ["slow piano ballad", "country", "acid techno", "drum & bass"]


def same_tempo(measured: float, reported: float) -> bool:
    """Equal up to the octave a listener might tap (half or double time)."""
    return any(abs(measured - reported * k) / (reported * k) < 0.04 for k in (0.5, 1.0, 2.0))


@pytest.fixture(scope="module")
def styled(engine):
    out = {}
    for tag in STYLES:
        track = generate(engine, {"tag": tag, "instrumental": True, "duration": 30, "seed": 5})[0]
        out[tag] = (track, wav(engine, track["id"]))
    return out


def test_styles_come_out_at_different_tempos_that_the_audio_confirms(styled):
    bpm = {tag: track["metadata"]["bpm"] for tag, (track, _) in styled.items()}
    assert bpm["slow piano ballad"] < 80 < bpm["country"] < bpm["acid techno"] < 150 < bpm["drum & bass"]
    for tag, (track, samples) in styled.items():
        assert same_tempo(analysis.tempo(samples, SR), bpm[tag]), tag


def test_styles_differ_in_brightness_and_rhythm_density(styled):
    centroid = {tag: analysis.spectral_centroid(x, SR) for tag, (_, x) in styled.items()}
    density = {tag: analysis.onset_density(x, SR) for tag, (_, x) in styled.items()}
    assert centroid["slow piano ballad"] < 0.6 * centroid["country"] < 0.6 * centroid["acid techno"]
    assert density["slow piano ballad"] < density["country"] < density["drum & bass"]
    assert density["slow piano ballad"] < 3.5 and density["drum & bass"] > 6


def test_lyrics_markers_set_structure_and_a_chorus_repeats_its_music(engine):
    lyrics = VOCAL_LYRICS + "\n[Bridge]\nAnd when the night is gone\n[Chorus]\nOh we are alive tonight\nHold me close and hold me tight"
    long, short = generate(engine, {"tag": "pop", "lyrics": lyrics, "seed": 1})[0], generate(engine, {"tag": "pop", "lyrics": VOCAL_LYRICS, "seed": 1})[0]
    kinds = [s["kind"] for s in long["metadata"]["sections"]]
    assert kinds == ["intro", "verse", "chorus", "bridge", "chorus", "outro"]
    assert long["duration"] > short["duration"] + 10
    choruses = [s for s in long["metadata"]["sections"] if s["kind"] == "chorus"]
    inst = wav(engine, long["id"], "instrumental")
    vocals = wav(engine, long["id"], "vocals")
    # Skip the first two seconds: the previous section's tails ring into each chorus.
    # Section starts are rounded to whole samples, so allow a sample or two of offset.
    start_a, start_b = seconds(choruses[0]["start"] + 2), seconds(choruses[1]["start"] + 2)
    length = seconds(choruses[0]["end"] - choruses[0]["start"] - 2.5)
    assert any(
        np.array_equal(stem[start_a : start_a + length], stem[start_b + k : start_b + k + length])
        for stem in (inst,)
        for k in range(-2, 3)
    )
    assert any(
        np.array_equal(vocals[start_a : start_a + length], vocals[start_b + k : start_b + k + length])
        for k in range(-2, 3)
    )


def test_a_vocal_line_sings_the_lyrics_in_its_own_stem_unless_instrumental(engine):
    sung = generate(engine, {"tag": "pop", "lyrics": VOCAL_LYRICS, "seed": 2})[0]
    silent = generate(engine, {"tag": "pop", "lyrics": VOCAL_LYRICS, "seed": 2, "instrumental": True})[0]
    vocals = wav(engine, sung["id"], "vocals")
    intro, verse = sung["metadata"]["sections"][:2]
    assert analysis.rms(vocals[: seconds(intro["end"] - 0.1)]) < 1e-4  # nobody sings in the intro
    sung_part = vocals[seconds(verse["start"]) : seconds(verse["end"])]
    assert analysis.rms(sung_part) > 0.03
    # A voice: most energy in the formant region, and most syllables heard as onsets.
    assert 300 < analysis.spectral_centroid(sung_part, SR) < 3500
    written = sum(len(syllables(line)) for line in VOCAL_LYRICS.split("[Chorus]")[0].splitlines()[1:])
    heard = analysis.onset_density(sung_part, SR) * len(sung_part) / SR
    assert 0.6 * written <= heard <= 1.5 * written
    assert analysis.rms(wav(engine, silent["id"], "vocals")) == 0.0


def test_the_same_request_gives_byte_identical_audio_and_its_variants_differ(engine):
    body = {"tag": "country", "lyrics": VOCAL_LYRICS}
    first, again = generate(engine, body), generate(engine, body)
    get = lambda t, ext="mp3": requests.get(t["audio_url"].replace(".mp3", f".{ext}")).content  # noqa: E731
    assert get(first[0]) == get(again[0]) and get(first[1]) == get(again[1])
    assert get(first[0], "wav") == get(again[0], "wav")
    a, b = wav(engine, first[0]["id"]), wav(engine, first[1]["id"])
    n = min(len(a), len(b))
    assert analysis.rms(a[:n] - b[:n]) > 0.2 * analysis.rms(a)


def test_a_different_seed_gives_different_audio(engine):
    one = compose(engine, prompt_1="jazz", seed=1)[0]
    same = compose(engine, prompt_1="jazz", seed=1)[0]
    other = compose(engine, prompt_1="jazz", seed=2)[0]
    body = lambda s: requests.get(s["download_url"]).content  # noqa: E731
    assert body(one) == body(same)
    assert body(one) != body(other)


def test_compose_prompts_rule_their_own_time_ranges(engine):
    song = compose(
        engine,
        prompt_1="acid techno", prompt_1_end=50, prompt_1_strength=100,
        prompt_2="ambient", prompt_2_start=50, prompt_2_strength=100,
        duration=40,
    )[0]
    x = wav(engine, song["id"])
    half = len(x) // 2
    first, second = x[: half - seconds(2)], x[half + seconds(2) :]
    assert analysis.onset_density(first, SR) > 1.4 * analysis.onset_density(second, SR)
    assert analysis.spectral_centroid(first, SR) > 2 * analysis.spectral_centroid(second, SR)


def test_songs_stay_between_thirty_seconds_and_four_minutes():
    endless = "[Verse]\n" + "\n".join(f"line {i} goes on and on" for i in range(150))
    long_plan = plan_song(SongSpec([Prompt("ballad")], lyrics=endless, seed=1))
    assert 200 < long_plan.duration <= 240
    assert any(s.lines for s in long_plan.sections)  # trimmed, not emptied
    short_plan = plan_song(SongSpec([Prompt("drum and bass")], lyrics="[Verse]\nhi", seed=1))
    assert 30 <= short_plan.duration < 40


def test_open_section_markers_become_sections_the_engine_knows(engine):
    lyrics = ("[Verse 1]\nSalt on the wire\n[Pre-Chorus]\nHold on now\n[Chorus x2]\nWe rise\n[Refrain]\nWe rise again\n"
              "[Solo]\n[Interlude]\n[Build]\nHigher and higher\n[Drop]\n[Kazoo Break]\nBuzzing along\n[Outro]")
    track = generate(engine, {"tag": "synth pop", "lyrics": lyrics, "duration": 120, "seed": 3})[0]
    kinds = {s["kind"] for s in track["metadata"]["sections"]}
    assert {"prechorus", "chorus", "break"} <= kinds  # [Pre-Chorus], [Chorus x2]/[Refrain], [Solo]/[Drop]…
    assert len(wav(engine, track["id"])) > seconds(30)
