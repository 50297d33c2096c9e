"""What the configured upstream can do (CONTRACT.md §4.9), and why not when it cannot.

The studio offers a mode or control only when `available(...)` says so, and shows `reason(...)`
next to what it greys out.
"""

from django.conf import settings

RIFFUSION = "riffusion"
USEAPI = "useapi"

MODES = {
    RIFFUSION: {"professional", "inspiration", "cover", "extend", "inpaint", "swap_vocals", "swap_sound"},
    USEAPI: {"professional", "inspiration", "compose", "cover", "extend", "inpaint"},
}
CONTROLS = {
    RIFFUSION: {"lyrics_strength", "sound_prompt_strength", "weirdness", "cover_strength",
                "variation_strength", "upload_url", "upload_file"},
    USEAPI: {"seed", "prompt_ranges", "lyrics_strength", "weirdness", "cover_strength",
             "callbacks", "upload_file"},
}
_NAMES = {RIFFUSION: "This music service (Riffusion API)", USEAPI: "This music service (useapi.net API)"}
_WHY = {
    (RIFFUSION, "compose"): "does not take time-ranged prompts; use Professional with style tags.",
    (RIFFUSION, "seed"): "does not take a seed, so results cannot be repeated exactly.",
    (RIFFUSION, "prompt_ranges"): "does not take time-ranged prompts.",
    (RIFFUSION, "callbacks"): "does not call back; progress is polled.",
    (USEAPI, "swap_vocals"): "cannot swap vocals; Cover replaces lyrics and vocals instead.",
    (USEAPI, "swap_sound"): "cannot swap the instrumental; Cover keeps the style instead.",
    (USEAPI, "sound_prompt_strength"): "sets strength per prompt instead.",
    (USEAPI, "variation_strength"): "has no variation strength.",
    (USEAPI, "upload_url"): "takes uploaded files, not links; upload the file itself.",
}


def dialect() -> str:
    return settings.RIFFWEB_UPSTREAM_DIALECT


def available(feature: str, which: str | None = None) -> bool:
    which = which or dialect()
    return feature in MODES[which] or feature in CONTROLS[which]


def reason(feature: str, which: str | None = None) -> str:
    """Why a mode or control is unavailable ("" when it is available)."""
    which = which or dialect()
    if available(feature, which):
        return ""
    why = _WHY.get((which, feature), "does not offer this.")
    return f"{_NAMES[which]} {why}"


def summary(which: str | None = None) -> dict:
    """Every known feature → "" (available) or the reason it is not; for templates."""
    which = which or dialect()
    features = set().union(*MODES.values(), *CONTROLS.values())
    return {f: reason(f, which) for f in sorted(features)}
