"""Where rendered tracks and uploads live: stems on disk, plans in memory, and
encoded files made on first download.

Stems are stored as 16-bit PCM (.npy) and the mix is always computed from those
stored samples. A transform that keeps a stem therefore reuses exactly the samples
the source's own mix was made of, so "matches the source" holds bit for bit before
encoding.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riffweb import audio

from .composer import mix
from .instruments import SR
from .transforms import Stems

STEM_NAMES = ("vocals", "instrumental")
WAVEFORM_POINTS = 120
PREVIEW_SHARE = 1 / 3  # of the song, in a preview
PREVIEW_MIN_SECONDS = 5.0


def _to_int16(x: np.ndarray) -> np.ndarray:
    y = np.clip(x, -1.0, 1.0)
    y *= np.float32(32767.0)
    np.rint(y, out=y)
    return y.astype(np.int16)


def _to_float(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / np.float32(32767.0)


@dataclass(frozen=True)
class Clip:
    """A track rendered once (the pre-rendered mode), whose files other tracks share."""

    id: str
    duration: float
    waveform: list[float]
    plan: object  # the composer's plan, described to musicians like a rendered track's


class AudioStore:
    def __init__(self, root: Path, eager_mp3: bool = False):
        self.root = root
        self.eager_mp3 = eager_mp3
        self.root.mkdir(parents=True, exist_ok=True)
        self._plans: dict[str, tuple] = {}  # item id -> (plan, what was heard)
        self._clips: dict[str, str] = {}  # item id -> the clip whose files it shares
        self._lock = threading.Lock()

    def _key(self, item_id: str) -> str:
        return self._clips.get(item_id, item_id)

    def _dir(self, item_id: str) -> Path:
        return self.root / self._key(item_id)

    def save(self, item_id: str, stems: Stems | Clip) -> tuple[float, list[float]]:
        """Store stems (or share a clip's files); return (duration, waveform peaks of the mix)."""
        if isinstance(stems, Clip):
            with self._lock:
                self._clips[item_id] = stems.id
            return stems.duration, stems.waveform
        folder = self._dir(item_id)
        folder.mkdir(parents=True, exist_ok=True)
        vocals, instrumental = _to_int16(stems.vocals), _to_int16(stems.instrumental)
        # The float stems are not needed past this point; drop them before mixing
        # so two long renders side by side stay within a few hundred MB.
        stems.vocals = stems.instrumental = None
        np.save(folder / "vocals.npy", vocals)
        np.save(folder / "instrumental.npy", instrumental)
        mixed = mix(vocals, instrumental)
        # MP3 and WAV files are encoded on first download (see file()): many
        # tracks, transform sources and test renders are never fetched as MP3.
        # With eager_mp3 the mix's MP3 is encoded now, so it exists once the track is done.
        with self._lock:
            self._plans[item_id] = (stems.plan, stems.heard)
        if self.eager_mp3:
            self._write(folder / "mix.mp3", audio.encode_mp3(mixed, SR))
        return len(mixed) / SR, audio.peaks(mixed, WAVEFORM_POINTS)

    def has(self, item_id: str) -> bool:
        return (self._dir(item_id) / "instrumental.npy").exists()

    def load(self, item_id: str) -> Stems:
        folder = self._dir(item_id)
        with self._lock:
            plan, heard = self._plans.get(self._key(item_id), (None, None))
        return Stems(
            vocals=_to_float(np.load(folder / "vocals.npy")),
            instrumental=_to_float(np.load(folder / "instrumental.npy")),
            plan=plan,
            heard=heard,
        )

    def file(self, item_id: str, fmt: str, stem: str | None = None) -> Path:
        """Path of the mix (or one stem) as mp3 or wav, encoding it on first request."""
        if fmt not in ("mp3", "wav") or (stem is not None and stem not in STEM_NAMES):
            raise KeyError(fmt)
        folder = self._dir(item_id)
        name = f"{stem or 'mix'}.{fmt}"
        path = folder / name
        if path.exists():
            return path
        if not self.has(item_id):
            raise KeyError(item_id)
        if stem is None:
            data = mix(np.load(folder / "vocals.npy"), np.load(folder / "instrumental.npy"))
        else:
            data = _to_float(np.load(folder / f"{stem}.npy"))
        encoded = audio.encode_mp3(data, SR) if fmt == "mp3" else audio.encode_wav(data, SR)
        self._write(path, encoded)
        return path

    def preview(self, item_id: str) -> Path:
        """The first part of a rendered mix as MP3 (encoded once): what a service streams while
        the rest is still being made."""
        path = self._dir(item_id) / "preview.mp3"
        if path.exists():
            return path
        if not self.has(item_id):
            raise KeyError(item_id)
        folder = self._dir(item_id)
        mixed = mix(np.load(folder / "vocals.npy"), np.load(folder / "instrumental.npy"))
        seconds = max(PREVIEW_MIN_SECONDS, PREVIEW_SHARE * len(mixed) / SR)
        self._write(path, audio.encode_mp3(mixed[: int(seconds * SR)], SR))
        return path

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: concurrent readers never see half a file
