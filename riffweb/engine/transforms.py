"""Transforms: new songs made from a source track's stems and plan.

Each transform keeps exactly what its name says and redraws the rest:

- extend:      source samples up to crop_end_at, then a continuation rendered on the
               source's beat grid, tempo and key.
- inpaint:     source samples outside [start, end]; inside, the song re-rendered with
               new seeds for melody, chords and drums (tempo, key, structure kept).
- swap_vocals: the source's instrumental stem untouched; a new singer and melody.
- swap_sound:  the source's vocal stem untouched; a new instrumental in the requested
               style on the same chords, tempo and key, so the old vocal still fits.
- cover:       same sections, tempo, length and melody; new style, instruments and
               voice. Cover strength sets how many melody notes survive.

An upload has no plan: the engine measures its tempo, beat phase and key, and the
whole mix stands in for the instrumental stem (the vocal stem is silence). We do
not separate sources.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import analysis
from .composer import (
    MAX_SECONDS,
    MIN_SECONDS,
    Plan,
    Prompt,
    Section,
    SongSpec,
    VARIATION_THRESHOLDS,
    default_sections,
    has_sung_lyrics,
    plan_song,
    progression,
    render,
    render_vocals,
    sections_from_lyrics,
    stable_seed,
    style_for,
)
from .instruments import SR
from .styles import MODES

FADE_SECONDS = 0.03


@dataclass(frozen=True)
class Listening:
    """What the engine heard in an upload: enough to fit new material to it."""

    bpm: float
    phase: float  # seconds to the first beat
    root: int
    mode: str


@dataclass
class Stems:
    vocals: np.ndarray  # float32 (n, 2)
    instrumental: np.ndarray  # float32 (n, 2)
    plan: Plan | None  # None for uploads
    heard: Listening | None = None  # uploads only

    @property
    def samples(self) -> int:
        return len(self.instrumental)

    @property
    def duration(self) -> float:
        return self.samples / SR


def generate(spec: SongSpec) -> Stems:
    plan = plan_song(spec)
    vocals, instrumental = render(plan)
    return Stems(vocals, instrumental, plan)


def upload_stems(samples: np.ndarray, sample_rate: int) -> Stems:
    """An upload as stems: the whole mix is the instrumental, the vocals are silent."""
    x = np.asarray(samples, dtype=np.float32)
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    x = x[:, :2]
    if sample_rate != SR:
        n = int(round(len(x) * SR / sample_rate))
        src_t = np.arange(len(x)) / sample_rate
        dst_t = np.arange(n) / SR
        x = np.stack([np.interp(dst_t, src_t, x[:, c]) for c in range(2)], axis=1).astype(np.float32)
    bpm, phase = analysis.beat_grid(x, SR)
    while bpm < 70:
        bpm *= 2
    while bpm > 180:
        bpm /= 2
    root, mode = analysis.key(x, SR)
    return Stems(np.zeros_like(x), x, None, Listening(round(bpm, 3), phase, root, mode))


# Plans for sources -----------------------------------------------------------------


def _reseeded(plan: Plan, spec: SongSpec, layers: tuple[str, ...]) -> dict[str, int]:
    """The plan's seeds with the named layers redrawn from the new request's seed."""
    seeds = dict(plan.seeds)
    for layer in layers:
        variant = spec.variant if spec.variation >= VARIATION_THRESHOLDS[layer] else 0
        seeds[layer] = stable_seed(spec.seed, variant, layer, "transform")
    return seeds


def _styles(spec: SongSpec, sections: list[Section], fallback: list | None = None) -> list:
    if spec.prompts:
        return [style_for(max(spec.prompts, key=lambda p: p.strength))] * len(sections)
    if fallback:
        return [fallback[min(i, len(fallback) - 1)] for i in range(len(sections))]
    return [style_for(Prompt("pop"))] * len(sections)


def source_plan(source: Stems, spec: SongSpec) -> tuple[Plan, float]:
    """The source's plan and the time of its first downbeat.

    For an upload a plan is inferred from what was heard at upload time (tempo,
    beat phase, key), with a plain verse/chorus form over its length and the
    request's style.
    """
    if source.plan is not None:
        return source.plan, 0.0
    bpm, phase, root, mode = source.heard.bpm, source.heard.phase, source.heard.root, source.heard.mode
    bars = max(4, int((source.duration - phase) / (240.0 / bpm)))
    sections = default_sections(bars)
    plan = plan_song(replace(spec, lyrics="", duration=source.duration))
    plan = replace(
        plan,
        bpm=round(bpm, 3),
        root=root,
        mode=mode,
        sections=sections,
        styles=_styles(spec, sections, plan.styles),
        vocals=False,
    )
    return plan, phase


def _assign_lines(sections: list[Section], lyrics: str) -> list[Section]:
    """Pour new lyric lines into an existing structure, verse lines into verses and so on."""
    buckets: dict[str, list[str]] = {}
    for s in sections_from_lyrics(lyrics):
        buckets.setdefault(s.kind, []).extend(s.lines)
    spare = [line for lines in buckets.values() for line in lines]
    out = []
    for s in sections:
        room = s.bars // 2
        own = buckets.get(s.kind, [])
        lines = own[:room]
        del own[:room]
        if not lines and s.kind in ("verse", "chorus") and spare:
            lines = spare[:room]  # more verses than written: sing the words again
        out.append(replace(s, lines=tuple(lines)))
    return out


def _with_lyrics(plan: Plan, spec: SongSpec, wordless: bool = True) -> Plan:
    """The plan singing the request's lyrics; with none, its own words, or (if it has
    none and wordless is set) an "ooh, la la" line so there is a voice to hear."""
    if has_sung_lyrics(spec.lyrics):
        return replace(plan, sections=_assign_lines(plan.sections, spec.lyrics), vocals=not spec.instrumental)
    if wordless and not any(s.lines for s in plan.sections):
        lines = tuple(["ooh ooh ah", "la la la la"])
        sections = [replace(s, lines=lines[: s.bars // 2]) if s.kind in ("verse", "chorus") else s for s in plan.sections]
        return replace(plan, sections=sections, vocals=not spec.instrumental)
    return plan


def _chords_of(plan: Plan) -> dict[str, list[int]]:
    """The progressions a plan plays, pinned so a new style keeps the old harmony."""
    return {s.kind: progression(plan, s.kind, style) for s, style in zip(plan.sections, plan.styles)}


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros((n - len(x), 2), np.float32)])


def _shift(x: np.ndarray, offset: int, n: int) -> np.ndarray:
    """x placed at offset (may be negative) in an n-sample buffer."""
    out = np.zeros((n, 2), np.float32)
    if offset >= 0:
        seg = x[: max(0, n - offset)]
        out[offset : offset + len(seg)] = seg
    else:
        seg = x[-offset : -offset + n]
        out[: len(seg)] = seg
    return out


def _ramp(length: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, length, dtype=np.float32)[:, None]


# The transforms --------------------------------------------------------------------


def extend(source: Stems, at: float, spec: SongSpec) -> Stems:
    base, phase = source_plan(source, spec)
    bar = base.bar_seconds
    head_bars = max(0, int(np.floor((at - phase) / bar)))
    grid = int(round((phase + head_bars * bar) * SR))  # downbeat at or before the cut
    if has_sung_lyrics(spec.lyrics):
        sections = sections_from_lyrics(spec.lyrics)
        if sections[-1].kind != "outro":
            sections.append(Section("outro", 4))
    else:
        want = spec.duration or max(MIN_SECONDS, min(60.0, source.duration))
        want = max(10.0, min(want, MAX_SECONDS - at))  # the whole song stays within four minutes
        # default_sections opens with a 4-bar intro, which a continuation drops.
        sections = default_sections(max(8, int(round(want / bar))) + 4)[1:]
    styles = _styles(spec, sections, base.styles[-1:])
    continuation = replace(
        base,
        sections=sections,
        styles=styles,
        seeds=_reseeded(base, spec, ("humanize", "timbre", "drums", "melody", "chords")),
        vocals=has_sung_lyrics(spec.lyrics) and not spec.instrumental,
        lyrics_strength=spec.lyrics_strength,
        weirdness=spec.weirdness,
    )
    new_vocals, new_inst = render(continuation)
    cut = int(round(at * SR))
    n = grid + len(new_inst)
    fade = int(FADE_SECONDS * SR)
    out = []
    for old, new in ((source.vocals, new_vocals), (source.instrumental, new_inst)):
        new = _shift(new, grid, n)
        old = _fit(old, n)
        result = new.copy()
        result[:cut] = old[:cut]
        end = min(n, cut + fade)
        r = _ramp(end - cut)
        result[cut:end] = old[cut:end] * (1 - r) + new[cut:end] * r
        out.append(result)
    if source.plan is None or head_bars == 0:
        return Stems(out[0], out[1], continuation if source.plan else None)
    # The kept head is summarised as one wordless section so the plan's timeline
    # matches the audio for later transforms.
    plan = replace(continuation, sections=[Section("break", head_bars), *sections], styles=[base.styles[-1], *styles])
    return Stems(out[0], out[1], plan)


def inpaint(source: Stems, start: float, end: float, spec: SongSpec) -> Stems:
    base, phase = source_plan(source, spec)
    fresh = replace(
        _with_lyrics(base, spec, wordless=False),
        seeds=_reseeded(base, spec, ("humanize", "timbre", "drums", "melody", "chords")),
        weirdness=spec.weirdness,
    )
    new_vocals, new_inst = render(fresh)
    n = source.samples
    s, e = int(round(start * SR)), min(n, int(round(end * SR)))
    fade = max(1, min(int(FADE_SECONDS * SR), (e - s) // 4))
    offset = int(round(phase * SR)) if source.plan is None else 0
    out = []
    for old, new in ((source.vocals, new_vocals), (source.instrumental, new_inst)):
        new = _shift(new, offset, n)
        result = old.copy()
        r = _ramp(fade)
        result[s : s + fade] = old[s : s + fade] * (1 - r) + new[s : s + fade] * r
        result[s + fade : e - fade] = new[s + fade : e - fade]
        result[e - fade : e] = new[e - fade : e] * (1 - r) + old[e - fade : e] * r
        out.append(result)
    return Stems(out[0], out[1], fresh if source.plan else None)


def swap_vocals(source: Stems, spec: SongSpec) -> Stems:
    base, phase = source_plan(source, spec)
    plan = _with_lyrics(base, spec)
    plan = replace(
        plan,
        seeds=_reseeded(plan, spec, ("humanize", "melody", "timbre")),
        voice_shift=2.14 - plan.voice_shift,  # the other singer
        voice_octave=-12 - plan.voice_octave,
        lyrics_strength=spec.lyrics_strength,
        vocals=True,
    )
    vocals = _shift(render_vocals(plan, plan.samples), int(round(phase * SR)), source.samples)
    return Stems(vocals, source.instrumental.copy(), plan if source.plan else None)


def swap_sound(source: Stems, spec: SongSpec) -> Stems:
    base, phase = source_plan(source, spec)
    plan = replace(
        base,
        styles=_styles(spec, base.sections, base.styles),
        chords=_chords_of(base),
        seeds=_reseeded(base, spec, ("humanize", "timbre", "drums")),
        weirdness=spec.weirdness,
        vocals=False,
    )
    _, instrumental = render(plan)
    instrumental = _shift(instrumental, int(round(phase * SR)), source.samples)
    return Stems(source.vocals.copy(), instrumental, replace(plan, vocals=base.vocals) if source.plan else None)


def cover(source: Stems, strength: float, spec: SongSpec) -> Stems:
    base, phase = source_plan(source, spec)
    keep = min(max(strength, 0.0), 1.0)
    plan = _with_lyrics(base, spec, wordless=False)
    redraw = ("humanize", "timbre", "drums") + (("chords",) if keep < 0.4 else ())
    new_mode = plan.mode
    if spec.prompts:
        wanted = style_for(spec.prompts[0]).mode
        # Major and minor covers of one tune exist; keep the melody's degrees, swap the scale.
        new_mode = wanted if keep < 0.5 and wanted in MODES else plan.mode
    plan = replace(
        plan,
        styles=_styles(spec, plan.sections, plan.styles),
        chords={} if "chords" in redraw else _chords_of(plan),
        seeds=_reseeded(plan, spec, redraw),
        mode=new_mode,
        voice_shift=2.14 - plan.voice_shift,
        voice_octave=-12 - plan.voice_octave,
        melody_alter=(1.0 - keep) * 0.8,
        alter_seed=stable_seed(spec.seed, spec.variant, "cover"),
        lyrics_strength=spec.lyrics_strength,
        weirdness=spec.weirdness,
    )
    vocals, instrumental = render(plan)
    n = source.samples
    offset = int(round(phase * SR))
    return Stems(_shift(vocals, offset, n), _shift(instrumental, offset, n), plan if source.plan else None)
