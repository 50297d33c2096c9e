"""What the engine says about words: when each sung line is heard, and lyrics written from a prompt.

Timed lyrics come in the shapes API.md lists for `lyrics_timestamped`: one entry per line
(`{"text", "start_s", "end_s"}`, or `start`/`end` in dialect A), or one per word with a line
break ending each line's last word, as aligned-lyrics services send. The engine option
`timed_lyrics` picks "lines", "words" or "none" (left out, as a service without them does).
"""

from __future__ import annotations

from .jobs import Track
from .topics import lyrics_for

TIMED_SHAPES = ("lines", "words", "none")


def timed_lyrics(track: Track, shape: str, suffix: str) -> list[dict] | None:
    """The track's sung lines in `shape`, times named start{suffix}/end{suffix}; None for "none"."""
    if shape == "none":
        return None
    start, end = f"start{suffix}", f"end{suffix}"
    if shape == "lines":
        return [{"text": line, start: round(a, 3), end: round(b, 3)} for line, a, b in track.sung]
    words = []
    for line, a, b in track.sung:
        parts = line.split()
        total = sum(len(p) for p in parts) or 1
        at = a
        for n, part in enumerate(parts):
            length = (b - a) * len(part) / total
            last = n == len(parts) - 1
            words.append({"word": part + ("\n" if last else " "), start: round(at, 3), end: round(at + length, 3)})
            at += length
    return words


def write_lyrics(prompt: str) -> tuple[str, str]:
    """(title, lyrics) for a prompt: sections marked [Verse]/[Chorus]/[Bridge], the same for
    the same prompt (the topic lyricist, see topics.py)."""
    words = prompt.split()
    title = " ".join(w.capitalize() for w in words[:4]) or "Untitled"
    return title[:80], lyrics_for(prompt)
