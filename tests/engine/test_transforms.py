"""Every transform keeps what its name says, measured on decoded audio (WAV downloads
and stems; one test checks the same promise through MP3 within encoding tolerance)."""

import numpy as np
import pytest
import requests

from riffweb import audio
from riffweb.engine import analysis
from riffweb.engine.styles import MODES

from .conftest import SR, VOCAL_LYRICS, generate, seconds, tone_wav, wav
from .test_audio import m4a_bytes
from .test_dialect_b import compose

QUANTUM = 1.01 / 32767  # one 16-bit step: the only difference WAV encoding allows


def morph(engine, source_id: str, **fields) -> list[dict]:
    # An explicit seed: otherwise the seed derives from the body, whose source id is random.
    body = {
        "tag": fields.pop("tag", "pop"),
        "lyrics": fields.pop("lyrics", ""),
        "seed": fields.pop("seed", 1),
        "morph": {"riff_id": source_id, **fields},
    }
    return generate(engine, body)


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and float(np.abs(a - b).max(initial=0.0)) <= QUANTUM


def differs(a: np.ndarray, b: np.ndarray) -> bool:
    n = min(len(a), len(b))
    return analysis.rms(a[:n] - b[:n]) > 0.25 * max(analysis.rms(a[:n]), 1e-9)


@pytest.fixture(scope="module")
def song(engine):
    track = generate(engine, {"tag": "pop", "lyrics": VOCAL_LYRICS, "seed": 11})[0]
    return {
        "track": track,
        "mix": wav(engine, track["id"]),
        "vocals": wav(engine, track["id"], "vocals"),
        "instrumental": wav(engine, track["id"], "instrumental"),
    }


NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def semitone_up(key: str) -> str:
    root, mode = key.split()
    return f"{NOTE_NAMES[(NOTE_NAMES.index(root) + 1) % 12]} {mode}"


def test_extend_keeps_the_source_up_to_crop_end_at_then_continues_in_tempo_and_key(engine, song):
    crop = 12.3
    track = morph(engine, song["track"]["id"], transform="extend", crop_end_at=crop, duration=30)[0]
    out = wav(engine, track["id"])
    assert close(out[: seconds(crop)], song["mix"][: seconds(crop)])
    assert track["duration"] > crop + 25
    continuation = out[seconds(crop + 1) :]
    assert differs(continuation, song["mix"][seconds(crop + 1) :])
    assert track["metadata"]["bpm"] == song["track"]["metadata"]["bpm"]
    assert track["metadata"]["key"] == song["track"]["metadata"]["key"]
    assert analysis.tempo(continuation, SR) == pytest.approx(analysis.tempo(song["mix"], SR), rel=0.03)
    # In key: the continuation's pitch content sits in the source's scale, and
    # clearly not in the scale a semitone away.
    key = song["track"]["metadata"]["key"]
    assert out_of_key_share(song["mix"][: seconds(crop)], key) < 0.25
    assert out_of_key_share(continuation, key) < 0.25
    assert out_of_key_share(continuation, semitone_up(key)) > out_of_key_share(continuation, key) + 0.2


def test_extend_matches_the_source_through_mp3_within_encoding_tolerance(engine, song):
    crop = 12.3
    track = morph(engine, song["track"]["id"], transform="extend", crop_end_at=crop, duration=30)[0]
    source = audio.decode(requests.get(song["track"]["audio_url"]).content).samples
    out = audio.decode(requests.get(track["audio_url"]).content).samples
    head = slice(0, seconds(crop - 0.1))  # the last MP3 frame before the cut mixes both
    error = analysis.rms(out[head] - source[head])
    assert error < 0.02 * analysis.rms(source[head])


def test_inpaint_keeps_everything_outside_the_span_and_renews_the_inside(engine, song):
    start, end = 8.0, 16.0
    track = morph(engine, song["track"]["id"], transform="inpaint", replace_start_at=start, replace_end_at=end)[0]
    out, src = wav(engine, track["id"]), song["mix"]
    assert len(out) == len(src)
    assert close(out[: seconds(start)], src[: seconds(start)])
    assert close(out[seconds(end) :], src[seconds(end) :])
    assert differs(out[seconds(start) : seconds(end)], src[seconds(start) : seconds(end)])


def test_swap_vocals_keeps_the_instrumental_stem_and_sings_anew(engine, song):
    lyrics = "[Verse]\nNew words for an old tune\nSinging under the moon"
    track, other = morph(engine, song["track"]["id"], transform="swap_vocals", lyrics=lyrics, normalized_variation_strength=0.0)
    assert close(wav(engine, track["id"], "instrumental"), song["instrumental"])
    vocals = wav(engine, track["id"], "vocals")
    assert analysis.rms(vocals) > 0.01 and differs(vocals, song["vocals"])
    assert not np.array_equal(vocals, wav(engine, other["id"], "vocals"))  # even at variation 0


def test_swap_sound_keeps_the_vocal_stem_and_replaces_the_instrumental(engine, song):
    track = morph(engine, song["track"]["id"], transform="swap_sound", tag="acid techno")[0]
    assert close(wav(engine, track["id"], "vocals"), song["vocals"])
    inst = wav(engine, track["id"], "instrumental")
    assert differs(inst, song["instrumental"])
    assert analysis.spectral_centroid(inst, SR) > 1.15 * analysis.spectral_centroid(song["instrumental"], SR)
    assert track["metadata"]["bpm"] == song["track"]["metadata"]["bpm"]  # the old vocal still fits


def chroma_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine similarity of per-frame pitch-class vectors: does it sing the same notes?"""
    n = min(len(a), len(b))
    ca, cb = analysis.chroma(a[:n], SR), analysis.chroma(b[:n], SR)
    voiced = (ca.sum(axis=1) > 1e-3 * ca.sum(axis=1).max()) & (cb.sum(axis=1) > 1e-3 * cb.sum(axis=1).max())
    ca, cb = ca[voiced], cb[voiced]
    cos = (ca * cb).sum(axis=1) / (np.linalg.norm(ca, axis=1) * np.linalg.norm(cb, axis=1) + 1e-12)
    return float(cos.mean())


def test_cover_keeps_structure_melody_and_length_with_a_new_sound(engine, song):
    close_cover = morph(engine, song["track"]["id"], transform="cover", tag="country", normalized_cover_strength=0.95)[0]
    loose_cover = morph(engine, song["track"]["id"], transform="cover", tag="country", normalized_cover_strength=0.05)[0]
    assert close_cover["duration"] == song["track"]["duration"]
    assert close_cover["metadata"]["sections"] == song["track"]["metadata"]["sections"]
    near = chroma_similarity(wav(engine, close_cover["id"], "vocals"), song["vocals"])
    far = chroma_similarity(wav(engine, loose_cover["id"], "vocals"), song["vocals"])
    assert near > 0.7 and near > far + 0.1, (near, far)
    assert differs(wav(engine, close_cover["id"], "instrumental"), song["instrumental"])


def vocal_share(engine, track) -> float:
    return analysis.rms(wav(engine, track["id"], "vocals")) / analysis.rms(wav(engine, track["id"], "instrumental"))


def test_lyrics_strength_brings_the_voice_forward(engine, song):
    weak = morph(engine, song["track"]["id"], transform="swap_vocals", normalized_lyrics_strength=0.1)[0]
    strong = morph(engine, song["track"]["id"], transform="swap_vocals", normalized_lyrics_strength=1.0)[0]
    assert vocal_share(engine, strong) > 1.5 * vocal_share(engine, weak)


def test_sound_prompt_strength_sets_how_far_the_style_pulls_from_plain_pop(engine):
    weak = compose(engine, prompt_1="drum and bass", prompt_1_strength=20, instrumental=True, seed=3)[0]
    strong = compose(engine, prompt_1="drum and bass", prompt_1_strength=100, instrumental=True, seed=3)[0]
    pop_bpm = 108  # the plain pop template that a weak prompt stays near
    bpm = {name: t["metadata"]["bpm"] for name, t in (("weak", weak), ("strong", strong))}
    assert abs(bpm["weak"] - pop_bpm) < abs(bpm["strong"] - pop_bpm) and bpm["strong"] > 165
    density = {name: analysis.onset_density(wav(engine, t["id"]), SR) for name, t in (("weak", weak), ("strong", strong))}
    assert density["strong"] > 1.3 * density["weak"]


def out_of_key_share(samples: np.ndarray, key: str) -> float:
    """Share of pitch-class energy outside the scale of key ("A major", "C# minor"...)."""
    root_name, mode = key.split()
    scale = MODES["major" if mode in ("major", "mixolydian") else "minor"]
    profile = analysis.chroma(samples, SR).sum(axis=0)
    inside = profile[[(NOTE_NAMES.index(root_name) + d) % 12 for d in scale]].sum()
    return float(1.0 - inside / profile.sum())


def test_weirdness_leaves_the_key_more_often(engine):
    tame = compose(engine, prompt_1="pop", instrumental=True, seed=4, lyrics_weirdness=0)[0]
    weird = compose(engine, prompt_1="pop", instrumental=True, seed=4, lyrics_weirdness=100)[0]
    key = tame["metadata"]["key"]
    assert out_of_key_share(wav(engine, weird["id"]), key) > out_of_key_share(wav(engine, tame["id"]), key) + 0.08


def test_variation_strength_sets_how_far_the_two_variants_drift_apart(engine, song):
    def gap(strength):
        a, b = morph(engine, song["track"]["id"], transform="extend", crop_end_at=10.0, duration=30, normalized_variation_strength=strength)
        x, y = wav(engine, a["id"])[seconds(11) :], wav(engine, b["id"])[seconds(11) :]
        return 1.0 - chroma_similarity(x, y)

    assert gap(1.0) > gap(0.0) + 0.1


def upload(engine, body: bytes, ctype: str) -> str:
    answer = requests.post(engine.url + "/v1/riffusion/music/upload-audio/", data=body, headers={"Content-Type": ctype})
    assert answer.status_code == 200, answer.text
    return answer.json()["audio_upload_id"]


@pytest.mark.parametrize("kind", ["wav", "mp3", "m4a"])
def test_an_upload_of_each_format_stands_in_as_the_instrumental(engine, kind):
    samples = audio.decode(tone_wav(31.0)).samples
    data = {"wav": audio.encode_wav(samples, SR), "mp3": audio.encode_mp3(samples, SR), "m4a": m4a_bytes(samples)}[kind]
    ctype = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4"}[kind]
    upload_id = upload(engine, data, ctype)
    lyrics = "[Verse]\nLa la la la\nOh oh oh"
    body = {"tag": "pop", "lyrics": lyrics, "seed": 1, "morph": {"audio_upload_id": upload_id, "transform": "swap_vocals"}}
    swapped = generate(engine, body)[0]
    assert close(wav(engine, swapped["id"], "instrumental"), audio.decode(data).samples)
    assert analysis.rms(wav(engine, swapped["id"], "vocals")) > 0.01


def test_extending_an_upload_keeps_its_opening_and_its_tempo(engine):
    upload_id = upload(engine, tone_wav(31.0, bpm=120.0), "audio/wav")
    original = audio.decode(tone_wav(31.0, bpm=120.0)).samples
    body = {"tag": "house", "seed": 1, "morph": {"audio_upload_id": upload_id, "transform": "extend", "crop_end_at": 10.0}}
    extended = generate(engine, body)[0]
    out = wav(engine, extended["id"])
    assert close(out[: seconds(10.0)], original[: seconds(10.0)])
    assert extended["duration"] > 30
    assert analysis.tempo(out[seconds(11) :], SR) == pytest.approx(120.0, rel=0.03)
