"""A singing voice: lyrics split into syllables, each sung as a formant-shaped note.

The voice is a wavetable whose one period holds a glottal-like harmonic series
weighted by three vowel formants (F1–F3). Reading that table with a vibrato-
modulated phase gives a sung vowel for the cost of one interpolation per sample;
consonants are short noise bursts in front of the vowel.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .instruments import SR, _highpass, _noise, _smooth, cached, midi_hz

TABLE = 2048

# Formant centres (Hz) for sung vowels; "@" is the neutral vowel used for "oh/ah" vocalise.
VOWELS = {
    "a": (800.0, 1150.0, 2900.0),
    "e": (480.0, 1720.0, 2520.0),
    "i": (300.0, 2250.0, 2950.0),
    "o": (480.0, 850.0, 2600.0),
    "u": (340.0, 750.0, 2400.0),
    "@": (560.0, 1400.0, 2500.0),
}
BANDWIDTHS = (90.0, 110.0, 160.0)
FORMANT_GAINS = (1.0, 0.55, 0.3)

FRICATIVES = set("sfzvhx") | {"sh", "ch", "th"}
PLOSIVES = set("tkpbdgcjq")

_VOWEL_GROUP = re.compile(r"[aeiouy]+")


def syllables(text: str) -> list[str]:
    """Split lyric text into sung syllables (rough English rules, good enough to sing)."""
    out: list[str] = []
    for word in re.findall(r"[a-z']+", text.lower()):
        word = word.replace("'", "")
        parts = re.findall(r"[^aeiouy]*[aeiouy]+", word)
        if not parts:
            out.append(word)
            continue
        tail = word[sum(len(p) for p in parts) :]
        # A silent final "e" (love, time) does not get its own note.
        if len(parts) > 1 and not tail and re.fullmatch(r"[^aeiouy]*e", parts[-1]) and len(parts[-1]) <= 3:
            silent = parts.pop()
            parts[-1] += silent
        parts[-1] += tail
        out.extend(parts)
    return out


def vowel_of(syllable: str) -> str:
    group = _VOWEL_GROUP.search(syllable)
    if not group:
        return "@"
    v = group.group(0)
    if v in ("ee", "ea", "ie", "ey") or v.startswith("i") or v == "y":
        return "i"
    if v in ("oo", "ew", "ue") or v.startswith("u"):
        return "u"
    if v.startswith("o"):
        return "o"
    if v in ("ay", "ai", "ei"):
        return "e"
    return v[0] if v[0] in VOWELS else "@"


def onset_of(syllable: str) -> str:
    head = re.match(r"[^aeiouy]*", syllable).group(0)
    if head[:2] in FRICATIVES:
        return "fricative"
    if head[:1] in FRICATIVES:
        return "fricative"
    if head[:1] in PLOSIVES:
        return "plosive"
    return ""


@lru_cache(maxsize=1024)
def _vowel_table(vowel: str, midi: int, shift: float) -> np.ndarray:
    f0 = midi_hz(midi)
    k = np.arange(1, int(min(60, 6000.0 / f0)) + 1, dtype=np.float64)
    fk = k * f0
    amp = np.zeros_like(k)
    for centre, bw, gain in zip(VOWELS[vowel], BANDWIDTHS, FORMANT_GAINS):
        amp += gain / (1.0 + ((fk - centre * shift) / bw) ** 2)
    amp *= k**-0.6  # the glottal source falls off with frequency
    x = np.arange(TABLE) / TABLE
    table = (amp[:, None] * np.sin(2.0 * np.pi * k[:, None] * x[None, :])).sum(axis=0)
    table /= max(1e-9, np.abs(table).max())
    return table.astype(np.float32)


def sing(
    vowel: str, onset: str, midi: int, n: int, shift: float, articulation: float, seed: int, glide: int = 0
) -> np.ndarray:
    """One sung syllable of n samples. Cached per render; do not modify the result.

    glide is the interval in semitones from the previous note of the phrase: the
    voice slides from there into this pitch, as singers do between notes.
    """
    key = ("sing", vowel, onset, midi, n, shift, articulation, seed, glide)
    return cached(key, lambda: _sing(vowel, onset, midi, n, shift, articulation, seed, glide))


def _sing(vowel: str, onset: str, midi: int, n: int, shift: float, articulation: float, seed: int, glide: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / SR
    depth = 0.3 * np.clip((t - 0.15) * 4.0, 0.0, 1.0)  # vibrato blooms after the attack
    bend = depth * np.sin(2.0 * np.pi * 5.6 * t)
    if glide:
        bend += glide * np.exp(-t / 0.035)
    freq = midi_hz(midi) * 2.0 ** (bend / 12.0)
    phase = (np.cumsum(freq) * (TABLE / SR)) % TABLE
    table = _vowel_table(vowel, midi, shift)
    voice = np.interp(phase, np.arange(TABLE), table, period=TABLE).astype(np.float32)
    attack = min(n, int(0.03 * SR))
    release = min(n - attack, int(0.07 * SR))
    env = np.ones(n, np.float32)
    env[:attack] = np.linspace(0.0, 1.0, attack)
    if release > 0:
        env[n - release :] = np.linspace(1.0, 0.0, release)
    voice *= env
    # Breath: band-limited noise (roughly 1–5 kHz), well under the voiced sound.
    noise = _noise(n, seed)
    breath = _smooth(noise, 4) - _smooth(noise, 20)
    voice += breath * env * np.float32(0.02)
    if onset and articulation > 0:
        length = min(n, int((0.06 if onset == "fricative" else 0.015) * SR))
        raw = _noise(length, seed + 1)
        # "s"/"sh" hiss is high; "t"/"k" bursts sit lower, in the mid band.
        burst = _highpass(raw, 1) * 0.5 if onset == "fricative" else _smooth(raw, 3) - _smooth(raw, 12)
        burst *= np.linspace(1.0, 0.0, length, dtype=np.float32) * np.float32(0.12 * articulation)
        voice[:length] += burst
    voice.setflags(write=False)
    return voice
