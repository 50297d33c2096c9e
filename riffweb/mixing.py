"""The arranger's mixer: regions of decoded songs, loudness-matched, joined with equal-power crossfades.

Pure numpy on float32 samples shaped (n, 2), like riffweb.audio (which decodes and encodes);
no Django, no randomness, no clock: the same regions always give the same samples, so an
arrangement rendered twice gives the same file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 44_100
TARGET_RMS = 10 ** (-18 / 20)  # every region is brought to about -18 dBFS RMS
MAX_GAIN = 10 ** (12 / 20)  # a near-silent region is raised at most 12 dB, never to a roar
CEILING = 0.98  # the mix is scaled down as a whole when a peak would clip


@dataclass(frozen=True)
class Part:
    """One region to mix: its song's samples and rate, and where to cut (seconds)."""

    samples: np.ndarray
    sample_rate: int
    start: float
    end: float
    crossfade: float  # overlap with the part before it; ignored on the first


def resample(samples: np.ndarray, rate: int, to: int = RATE) -> np.ndarray:
    """Linear interpolation to `to` Hz: plain, deterministic, good enough for joining takes."""
    if rate == to:
        return samples
    count = int(round(len(samples) * to / rate))
    source = np.arange(len(samples), dtype=np.float64)
    wanted = np.arange(count, dtype=np.float64) * (rate / to)
    return np.stack([np.interp(wanted, source, samples[:, c]) for c in range(samples.shape[1])],
                    axis=1).astype(np.float32)


def stereo(samples: np.ndarray) -> np.ndarray:
    return np.repeat(samples, 2, axis=1) if samples.shape[1] == 1 else samples[:, :2]


def cut(part: Part) -> np.ndarray:
    """The region's samples at RATE, in stereo, loudness-matched to TARGET_RMS."""
    first, last = int(round(part.start * part.sample_rate)), int(round(part.end * part.sample_rate))
    region = resample(stereo(part.samples[first:last]).astype(np.float32), part.sample_rate)
    rms = float(np.sqrt(np.mean(np.square(region, dtype=np.float64)))) if len(region) else 0.0
    gain = min(TARGET_RMS / rms, MAX_GAIN) if rms > 0 else 1.0
    return (region * np.float32(gain)).astype(np.float32)


def mix(parts: list[Part]) -> np.ndarray:
    """The parts in order, each overlapping the one before by its crossfade with an equal-power
    curve (cos/sin), so the join neither dips nor swells on uncorrelated material."""
    out = np.zeros((0, 2), np.float32)
    for index, part in enumerate(parts):
        region = cut(part)
        overlap = 0 if index == 0 else min(int(round(part.crossfade * RATE)), len(out), len(region))
        if overlap:
            ramp = (np.arange(overlap, dtype=np.float64) + 0.5) / overlap * (np.pi / 2)
            fade_out = np.cos(ramp).astype(np.float32)[:, None]
            fade_in = np.sin(ramp).astype(np.float32)[:, None]
            joined = out[-overlap:] * fade_out + region[:overlap] * fade_in
            out = np.concatenate([out[:-overlap], joined, region[overlap:]])
        else:
            out = np.concatenate([out, region])
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > CEILING:
        out = out * np.float32(CEILING / peak)
    return out
