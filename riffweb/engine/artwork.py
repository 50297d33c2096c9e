"""Cover art: a small PNG per track, drawn from its seed (the same track, the same picture)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

SIZE = 256


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
