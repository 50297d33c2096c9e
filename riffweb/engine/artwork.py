"""Cover art: a small PNG per track, drawn from its seed (the same track, the same picture)."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache, lru_cache

import numpy as np
from PIL import Image

SIZE = 256


@lru_cache(maxsize=64)  # a track's cover is fetched more than once; prerendered mode has a few seeds
def cover_png(seed: int) -> bytes:
    """Two colours blended along a seeded angle, with a few seeded rings: plain, recognisable
    per track, and a few kilobytes."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(40, 230, size=(2, 3))
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    angle = rng.uniform(0, np.pi)
    t = np.clip(np.cos(angle) * x + np.sin(angle) * y, 0, 1)[..., None]
    pixels = a * (1 - t) + b * t
    for cx, cy, r in rng.uniform(0.15, 0.85, size=(3, 3)):
        ring = np.abs(np.hypot(x - cx, y - cy) - r * 0.4) < 0.02
        pixels[ring] = 255 - pixels[ring]
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@cache
def bomb_png(side: int = 6000) -> bytes:
    """A valid greyscale PNG of side×side black pixels: tens of KB that decode to side² bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(bytes(side + 1) * side, 9)  # each row: filter byte 0, then zeros
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
