"""Synthesised instruments: one function per timbre, each returning a mono note.

Every note is computed with whole-array numpy (additive harmonics, sweeps and
decays), never a per-sample Python loop. Notes are cached by their parameters, so
a song that repeats its chorus pays for each distinct note only once; that cache
is what keeps a three-minute song well under three seconds of CPU.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

SR = 44100
NYQUIST_GUARD = 16000.0  # keep harmonics well below Nyquist: no aliasing, less work


_local = threading.local()


@contextmanager
def note_cache():
    """Share rendered notes within one render (per thread), then let them go.

    A song repeats few distinct notes many times; a process-wide cache would keep
    every note of every song ever rendered, so the cache lives as long as a render.
    """
    previous = getattr(_local, "cache", None)
    _local.cache = {} if previous is None else previous
    try:
        yield
    finally:
        _local.cache = previous


def cached(key: tuple, make):
    cache = getattr(_local, "cache", None)
    if cache is None:
        return make()
    wave = cache.get(key)
    if wave is None:
        wave = cache[key] = make()
    return wave


def midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _t(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32) / SR


def _envelope(n: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(n, dtype=np.float32)
    a = min(n, max(1, int(attack * SR)))
    r = min(n - a, max(1, int(release * SR)))
    env[:a] = np.linspace(0.0, 1.0, a, dtype=np.float32)
    if r > 0:
        env[n - r :] *= np.linspace(1.0, 0.0, r, dtype=np.float32)
    return env


TABLE = 4096


def _phase(freq: float, n: int) -> np.ndarray:
    """Cycles elapsed at each sample (not wrapped; readers wrap as they need).

    float32 is enough: even a five-second note at 5 kHz keeps its phase within a
    few thousandths of a cycle, far below hearing, at half the cost of float64.
    """
    phase = np.arange(n, dtype=np.float32)
    phase *= np.float32(freq / SR)
    return phase


def _read_table(amps, phase: np.ndarray) -> np.ndarray:
    """A periodic wave with harmonic amplitudes amps, read at phase (in cycles)."""
    x = np.arange(TABLE) / TABLE
    k = np.arange(1, len(amps) + 1)[:, None]
    table = (np.asarray(amps, dtype=np.float64)[:, None] * np.sin(2.0 * np.pi * k * x)).sum(axis=0)
    index = (phase * np.float32(TABLE)).astype(np.int32)
    index &= TABLE - 1  # TABLE is a power of two: the mask wraps to one period
    return table.astype(np.float32)[index]


def _harmonics(
    freq: float,
    n: int,
    amps: np.ndarray,
    decay: tuple[float, float] | None = None,
    detune_cents: float = 0.0,
) -> np.ndarray:
    """Sum of harmonics k*freq with amplitudes amps[k-1].

    decay=(base, per_harmonic) makes harmonic k die away at base + per_harmonic*k
    per second, upper partials first, which is most of what makes a plucked or
    struck note sound physical. Without decay the wave is periodic, so one period
    is summed into a table and read back; with decay, sin(kx) comes from the
    Chebyshev recurrence and the decays from repeated multiplication, so no
    transcendental function runs per partial.
    """
    f = freq * 2.0 ** (detune_cents / 1200.0)
    count = 0
    for k, amp in enumerate(amps, start=1):
        if k * f >= NYQUIST_GUARD or amp <= 1e-4:
            break
        count = k
    if count == 0:
        return np.zeros(n, np.float32)
    phase = _phase(f, n)
    if decay is None:
        return _read_table(amps[:count], phase)
    x = phase * np.float32(2.0 * np.pi)
    t = _t(n)
    base, per_k = decay
    step = np.exp(-per_k * t)
    env = np.exp(-base * t) * step
    two_cos = 2.0 * np.cos(x)
    prev = np.zeros(n, np.float32)
    cur = np.sin(x)
    out = cur * env * np.float32(amps[0])
    scratch = np.empty(n, np.float32)
    for k in range(2, count + 1):
        np.multiply(two_cos, cur, out=scratch)
        scratch -= prev
        prev, cur, scratch = cur, scratch, prev
        env *= step
        np.multiply(cur, env, out=scratch)
        scratch *= np.float32(amps[k - 1])
        out += scratch
    return out


def _brightness_amps(count: int, brightness: float, slope: float = 1.0) -> np.ndarray:
    k = np.arange(1, count + 1, dtype=np.float32)
    rolloff = np.exp(-(k - 1) * (1.2 - brightness) * 0.35)
    return (rolloff / k**slope).astype(np.float32)


def note(instrument: str, midi: int, n: int, brightness: float, detune: float = 0.0) -> np.ndarray:
    """A mono note, peak about 1. Cached per render; callers must not modify it."""

    def make():
        wave = INSTRUMENTS[instrument](midi_hz(midi), n, brightness, detune).astype(np.float32)
        wave.setflags(write=False)
        return wave

    return cached(("note", instrument, midi, n, brightness, detune), make)


def piano(freq, n, brightness, detune):
    count = 14
    amps = _brightness_amps(count, brightness, 1.3)
    body = _harmonics(freq, n, amps, (1.2, 0.9 * (freq / 260.0) ** 0.5), detune_cents=detune)
    return body * _envelope(n, 0.003, 0.08) * 0.9


def pluck(freq, n, brightness, detune):
    count = 16
    amps = _brightness_amps(count, brightness, 0.9)
    return _harmonics(freq, n, amps, (3.0, 2.2), detune_cents=detune) * _envelope(n, 0.002, 0.05)


def guitar(freq, n, brightness, detune):
    count = 18
    amps = _brightness_amps(count, brightness, 0.8)
    amps[1::2] *= 0.7  # plucked near the bridge: even partials a little weaker
    return _harmonics(freq, n, amps, (2.0, 1.4), detune_cents=detune) * _envelope(n, 0.003, 0.06)


def pad(freq, n, brightness, detune):
    amps = _brightness_amps(10, brightness * 0.8, 1.0)
    a = _harmonics(freq, n, amps, detune_cents=detune + 7.0)
    b = _harmonics(freq, n, amps, detune_cents=detune - 7.0)
    return (a + b) * 0.5 * _envelope(n, min(0.35, n / SR / 3), 0.25)


def organ(freq, n, brightness, detune):
    amps = np.array([1.0, 0.8, 0.5, 0.45, 0.0, 0.3, 0.0, 0.25 * brightness], dtype=np.float32)
    return _harmonics(freq, n, amps, detune_cents=detune) * _envelope(n, 0.01, 0.03) * 0.6


def stab(freq, n, brightness, detune):
    count = 20
    amps = _brightness_amps(count, brightness, 1.0)
    return _harmonics(freq, n, amps, (6.0, 1.5), detune_cents=detune) * _envelope(n, 0.002, 0.03)


def power(freq, n, brightness, detune):
    count = 12
    amps = _brightness_amps(count, brightness, 1.0)
    raw = _harmonics(freq, n, amps, detune_cents=detune) + _harmonics(freq * 1.5, n, amps * 0.7)
    drive = 2.5 + 4.0 * brightness  # distortion is what makes it a rock guitar
    return np.tanh(raw * drive) * 0.6 * _envelope(n, 0.004, 0.05)


def bell(freq, n, brightness, detune):
    t = _t(n)
    f = freq * 2.0 ** (detune / 1200.0)
    index = (1.5 + 2.5 * brightness) * np.exp(-t * 4.0)
    mod = np.sin(2.0 * np.pi * 3.5 * f * t) * index
    return np.sin(2.0 * np.pi * f * t + mod) * np.exp(-t * 2.5) * _envelope(n, 0.002, 0.05)


def saw(freq, n, brightness, detune):
    t = _t(n)
    vibrato = 1.0 + 0.004 * np.sin(2 * np.pi * 5.5 * t) * np.clip(t * 3.0, 0.0, 1.0)
    phase = (np.cumsum(vibrato, dtype=np.float64) * (freq * 2.0 ** (detune / 1200.0) / SR)) % 1.0
    count = int(min(24, NYQUIST_GUARD / freq))
    return _read_table(_brightness_amps(count, brightness, 1.0), phase) * _envelope(n, 0.01, 0.06) * 0.7


def sub(freq, n, brightness, detune):
    amps = np.array([1.0, 0.25 * brightness + 0.05, 0.08], dtype=np.float32)
    return _harmonics(freq, n, amps, detune_cents=detune) * _envelope(n, 0.005, 0.04)


def picked(freq, n, brightness, detune):
    amps = _brightness_amps(8, brightness * 0.7, 1.2)
    return _harmonics(freq, n, amps, (2.0, 2.5), detune_cents=detune) * _envelope(n, 0.003, 0.04)


def upright(freq, n, brightness, detune):
    amps = np.array([1.0, 0.45, 0.2, 0.08], dtype=np.float32)
    return _harmonics(freq, n, amps, (0.5, 1.6), detune_cents=detune) * _envelope(n, 0.012, 0.05)


def bass808(freq, n, brightness, detune):
    t = _t(n)
    glide = freq * (1.0 + 0.35 * np.exp(-t * 30.0))
    phase = np.cumsum(glide) / SR
    body = np.sin(2.0 * np.pi * phase) * np.exp(-t * 1.2)
    return np.tanh(body * (1.5 + brightness)) * _envelope(n, 0.002, 0.06)


def reese(freq, n, brightness, detune):
    amps = _brightness_amps(14, brightness * 0.8, 1.0)
    a = _harmonics(freq, n, amps, detune_cents=detune + 12.0)
    b = _harmonics(freq, n, amps, detune_cents=detune - 12.0)
    return (a + b) * 0.45 * _envelope(n, 0.01, 0.05)


def acid(freq, n, brightness, detune):
    """A 303-style line: a saw through a resonant low-pass whose cutoff snaps shut.

    Emulated additively: each harmonic is weighted by a resonant response centred on
    a cutoff that decays over the note, which gives the squelch without an IIR filter.
    """
    t = _t(n)
    cutoff = freq * (2.0 + (10.0 * brightness + 3.0) * np.exp(-t * 12.0))
    count = int(min(40, NYQUIST_GUARD / freq))
    out = np.zeros(n, dtype=np.float32)
    q = 5.0
    for k in range(1, count + 1):
        x = (k * freq) / cutoff
        response = 1.0 / np.sqrt((1.0 - x * x) ** 2 + (x / q) ** 2)
        out += (response / k) * np.sin(2.0 * np.pi * k * freq * t)
    out *= 0.35
    return np.tanh(out) * _envelope(n, 0.002, 0.02)


INSTRUMENTS = {
    "piano": piano,
    "pluck": pluck,
    "guitar": guitar,
    "pad": pad,
    "organ": organ,
    "stab": stab,
    "power": power,
    "bell": bell,
    "saw": saw,
    "sub": sub,
    "picked": picked,
    "upright": upright,
    "808": bass808,
    "reese": reese,
    "acid": acid,
}


# Drums ------------------------------------------------------------------------

def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n, dtype=np.float32)


def _highpass(x: np.ndarray, times: int = 1) -> np.ndarray:
    for _ in range(times):
        x = np.diff(x, prepend=np.float32(0.0))
    return x


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """A cheap low-pass: moving average via cumulative sum."""
    c = np.cumsum(np.concatenate([np.zeros(width, np.float32), x]))
    return ((c[width:] - c[:-width]) / width).astype(np.float32)


@lru_cache(maxsize=256)
def drum(kind: str, kit: str, seed: int) -> np.ndarray:
    """One drum hit, peak about 1. Cached per kit and seed."""
    if kind == "kick":
        n = int(SR * (0.7 if kit == "808" else 0.35))
        t = _t(n)
        top, floor, fall = (90.0, 45.0, 18.0) if kit == "808" else (160.0, 48.0, 35.0)
        freq = floor + (top - floor) * np.exp(-t * fall)
        body = np.sin(2.0 * np.pi * np.cumsum(freq) / SR)
        decay = 3.5 if kit == "808" else 9.0
        click = _highpass(_noise(n, seed), 1) * np.exp(-t * 250.0) * 0.2
        wave = body * np.exp(-t * decay) + click
        if kit == "brush":
            wave *= 0.6
    elif kind == "snare":
        n = int(SR * 0.25)
        t = _t(n)
        if kit == "brush":
            wave = _smooth(_noise(n, seed), 3) * np.exp(-t * 14.0) * 0.7
        else:
            rattle = _highpass(_noise(n, seed), 1) * np.exp(-t * 22.0) * 0.8
            tone = np.sin(2.0 * np.pi * 185.0 * t) * np.exp(-t * 28.0)
            wave = rattle + tone
            if kit in ("electronic", "808"):
                # A clap layered in: three quick bursts before the tail.
                clap = np.zeros(n, np.float32)
                for i, start in enumerate((0, 350, 700)):
                    seg = _highpass(_noise(n - start, seed + i + 1), 1) * np.exp(-_t(n - start) * (180.0 if i < 2 else 25.0))
                    clap[start:] += seg * 0.5
                wave = wave * 0.6 + clap
    elif kind in ("hat", "open_hat"):
        n = int(SR * (0.3 if kind == "open_hat" else 0.06))
        t = _t(n)
        decay = 12.0 if kind == "open_hat" else 70.0
        wave = _highpass(_noise(n, seed), 2) * np.exp(-t * decay) * 0.5
        if kit == "brush":
            wave = _highpass(_noise(n, seed), 1) * np.exp(-t * decay * 0.6) * 0.3
    elif kind == "crash":
        n = int(SR * 1.4)
        t = _t(n)
        wave = _highpass(_noise(n, seed), 2) * np.exp(-t * 2.8) * 0.35
    else:
        raise ValueError(kind)
    wave = wave.astype(np.float32)
    wave /= max(1e-6, float(np.max(np.abs(wave))))
    wave.setflags(write=False)
    return wave
