"""Cover art from the music service, checked before it is kept.

A fetched file is only kept as what Pillow decodes it to: its header must name one of a few
formats and a size under the pixel cap (checked before any pixel is decoded, so an image
bomb costs nothing), and the picture is re-encoded here as a small JPEG, so no byte the
service sent reaches a browser.
"""

from __future__ import annotations

import warnings
from io import BytesIO
from pathlib import Path

from PIL import Image

FORMATS = ["JPEG", "PNG", "WEBP", "GIF"]
SIDE = 512  # the largest cover shown is 256 CSS pixels: twice that for dense screens
QUALITY = 85


class ArtworkError(Exception):
    """Not a picture we keep. The message is for operators' logs."""


def thumbnail(path: Path, max_pixels: int) -> bytes:
    """The picture at `path` as a JPEG of at most SIDE×SIDE; ArtworkError otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ArtworkError(f"{width}×{height} is more than {max_pixels} pixels")
                image.draft("RGB", (SIDE, SIDE))  # JPEG: decode at a reduced scale
                image.thumbnail((SIDE, SIDE))
                picture = image.convert("RGB")
    except ArtworkError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            EOFError) as exc:
        raise ArtworkError(f"not an image we can read ({exc.__class__.__name__}: {exc})"[:300]) from None
    out = BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
