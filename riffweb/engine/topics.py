"""Songs from a theme: a title, lyrics and a style tag derived from a topic sentence.

A small template lyricist, not a language model: the topic's own words are
slotted into line templates picked deterministically from the topic's hash.
"""

from __future__ import annotations

import re

import numpy as np

from .composer import stable_seed
from .styles import style_for_topic

_STOP = set(
    "a an the and or but of to in on at for with about from into over under my your our their his her its "
    "is are was were be been song songs music track about that this these those it me you we they i".split()
)

_VERSE = [
    "I still remember {a} in the evening light",
    "Walking with the {b} and the road so wide",
    "Every little {a} tells me where to go",
    "Underneath the {b} I can feel it glow",
    "Counting all the {a} as the night comes down",
    "Holding on to {b} in this sleepy town",
    "Carry me the {a} like a river flows",
    "Singing to the {b} only the heart knows",
]
_CHORUS = [
    "Oh {t}, take me home tonight",
    "Oh {t}, everything is right",
    "We are the {a}, we are the {b}",
    "Sing it loud and let it be",
    "Hold on, hold on to {t}",
    "Never let go of {t}",
]
_BRIDGE = [
    "And when the {a} is gone",
    "I will keep on singing on",
    "Through the {b} and through the rain",
    "We will find our way again",
]


def _keywords(topic: str) -> list[str]:
    words = [w for w in re.findall(r"[a-zA-Z']+", topic.lower()) if w not in _STOP and len(w) > 2]
    return words or ["dream", "light"]


def title_for(topic: str) -> str:
    words = re.findall(r"[A-Za-z0-9']+", topic)[:5]
    return " ".join(w.capitalize() for w in words) or "Untitled"


def lyrics_for(topic: str) -> str:
    rng = np.random.default_rng(stable_seed("topic", topic.strip().lower()))
    keys = _keywords(topic)
    a, b = keys[0], keys[min(1, len(keys) - 1)] if len(keys) > 1 else "sky"
    t = " ".join(keys[:2])

    def pick(pool: list[str], count: int) -> list[str]:
        idx = rng.choice(len(pool), size=count, replace=False)
        return [pool[i].format(a=a, b=b, t=t) for i in idx]

    chorus = pick(_CHORUS, 2)
    parts = ["[Verse]", *pick(_VERSE, 4), "[Chorus]", *chorus, "[Verse]", *pick(_VERSE, 4), "[Chorus]", *chorus]
    if rng.random() < 0.5:
        parts += ["[Bridge]", *pick(_BRIDGE, 2), "[Chorus]", *chorus]
    return "\n".join(parts)


def derive(topic: str) -> tuple[str, str, str]:
    """(title, lyrics, style tag) for a topic."""
    return title_for(topic), lyrics_for(topic), style_for_topic(topic)
