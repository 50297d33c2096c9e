"""The one place that knows the two API dialects riffweb speaks (described in API.md).

Dialect A ("riffusion") is the Riffusion API of `/riffusion/...`; dialect B ("useapi") is
useapi.net's `/v1/riffusion/music/...`. Each is one `Dialect`: its models (the first is the
default), what it can do, why not when it cannot, and the facts the pipeline plans by. The
studio offers a mode or control only when `available(...)` says so and shows `reason(...)`
next to what it greys out.

A bottom-floor module: it reads settings and imports nothing else of riffweb.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.conf import settings

RIFFUSION = "riffusion"  # dialect A: /riffusion/...
USEAPI = "useapi"  # dialect B: /v1/riffusion/music/...


@dataclass(frozen=True)
class Dialect:
    name: str
    label: str  # what musicians and operators call it
    models: tuple[str, ...]  # the first is the default
    modes: frozenset[str]
    controls: frozenset[str]
    reasons: dict[str, str] = field(default_factory=dict)  # feature → why it is missing
    takes_callbacks: bool = False
    upload_by_link: bool = False  # True: it fetches a link to our copy; False: it takes the bytes
    usual_seconds: float = 60.0  # how long one generation usually takes
    poll_batch: int = 1  # ids one status call can carry
    prompt_strength_range: tuple[int, int] = (0, 100)  # percent a sound prompt's strength may take
    needs_style: bool = False  # every create-compose needs a sound prompt: style tags or the source's
    lyrics_max: int = 3000  # characters of lyrics a create takes

    @property
    def default_model(self) -> str:
        return self.models[0]

    def available(self, feature: str) -> bool:
        return feature in self.modes or feature in self.controls

    def reason(self, feature: str) -> str:
        """Why a mode or control is unavailable ("" when it is available)."""
        if self.available(feature):
            return ""
        return f"This music service ({self.label}) {self.reasons.get(feature, 'does not offer this.')}"


DIALECTS = {
    RIFFUSION: Dialect(
        name=RIFFUSION,
        label="Riffusion API",
        # FUZZ-1.1 first: the newest model without the Pro tier's extra cost.
        models=("FUZZ-1.1", "FUZZ-1.1 Pro", "FUZZ-1.0", "FUZZ-1.0 Pro"),
        modes=frozenset({"professional", "inspiration", "cover", "extend", "inpaint", "swap_vocals", "swap_sound"}),
        controls=frozenset({"lyrics_strength", "sound_prompt_strength", "weirdness", "cover_strength",
                            "variation_strength", "upload_url", "upload_file"}),
        reasons={
            "compose": "does not take time-ranged prompts; use Professional with style tags.",
            "seed": "does not take a seed, so results cannot be repeated exactly.",
            "prompt_ranges": "does not take time-ranged prompts.",
            "callbacks": "does not call back; progress is polled.",
            "lyrics_help": "does not write lyrics; write your own.",
            "download_wav": "has no WAV download; the song's own file is the only one it gives.",
            "download_stems": "has no stems download; only the mixed song is available.",
        },
        upload_by_link=True,
        poll_batch=100,
    ),
    USEAPI: Dialect(
        name=USEAPI,
        label="useapi.net API",
        models=("FUZZ-0.8",),
        modes=frozenset({"professional", "inspiration", "compose", "cover", "extend", "inpaint"}),
        controls=frozenset({"seed", "prompt_ranges", "lyrics_strength", "weirdness", "cover_strength",
                            "callbacks", "upload_file", "lyrics_help", "download_wav",
                            "download_stems"}),
        reasons={
            "swap_vocals": "cannot swap vocals; Cover replaces lyrics and vocals instead.",
            "swap_sound": "cannot swap the instrumental; Cover keeps the style instead.",
            "sound_prompt_strength": "sets strength per prompt instead.",
            "variation_strength": "has no variation strength.",
            "upload_url": "takes uploaded files, not links; upload the file itself.",
        },
        takes_callbacks=True,
        prompt_strength_range=(20, 100),
        needs_style=True,
    ),
}
FEATURES = frozenset().union(*(d.modes | d.controls for d in DIALECTS.values()))


def get(name: str) -> Dialect:
    """The named dialect as this site is configured: the settings that tune it applied."""
    try:
        dialect = DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown music service dialect {name!r}; use {RIFFUSION!r} or {USEAPI!r}") from None
    expected = getattr(settings, "RIFFWEB_UPSTREAM_EXPECTED_SECONDS", None)
    if expected:
        dialect = replace(dialect, usual_seconds=float(expected))
    if dialect.poll_batch > 1:  # only A's feed takes many ids, and the operator may cap them
        dialect = replace(dialect, poll_batch=max(1, int(settings.RIFFWEB_UPSTREAM_FEED_CHUNK)))
    return dialect


def current() -> Dialect:
    return get(settings.RIFFWEB_UPSTREAM_DIALECT)


def _pick(which: str | None) -> Dialect:
    return get(which) if which else current()


def available(feature: str, which: str | None = None) -> bool:
    return _pick(which).available(feature)


def reason(feature: str, which: str | None = None) -> str:
    """Why a mode or control is unavailable ("" when it is available)."""
    return _pick(which).reason(feature)


def summary(which: str | None = None) -> dict[str, str]:
    """Every known feature → "" (available) or the reason it is not; for templates."""
    dialect = _pick(which)
    return {feature: dialect.reason(feature) for feature in sorted(FEATURES)}


def callbacks_enabled() -> bool:
    """The music service will call us back: it can, and we have a public address to give it."""
    return current().takes_callbacks and bool(settings.RIFFWEB_PUBLIC_URL)
