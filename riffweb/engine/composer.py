"""The procedural composer: a request becomes a Plan, a Plan becomes two stems.

A Plan holds every musical decision (tempo, key, sections, per-section style, and
the seeds of each decision layer), so a transform can re-render a song with some
decisions kept and others redrawn. Rendering is deterministic: the same Plan gives
the same samples, bit for bit.

Decisions are grouped in layers, each with its own random stream. The second
variant of a request redraws only the layers whose threshold is at or below the
request's variation strength, so "variation strength" literally means how many
layers of the song the two variants disagree on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from . import instruments, voice
from .instruments import SR
from .styles import MODES, POP, Style, blend, parse_style

# Below a layer's threshold the second variant shares the first variant's choices.
VARIATION_THRESHOLDS = {
    "humanize": 0.0,
    "timbre": 0.15,
    "drums": 0.3,
    "melody": 0.45,
    "chords": 0.65,
    "key": 0.85,
}

MIN_SECONDS = 30.0
MAX_SECONDS = 240.0
DEFAULT_SECONDS = 100.0
TAIL_SECONDS = 1.5  # lets the final chord ring out
LEGATO_SECONDS = 0.04  # how far a sung syllable overlaps the next

# How each section kind is arranged: which parts play, and how hard.
ARRANGEMENT = {
    "intro": dict(drums=0.5, bass=0.0, harmony=1.0, lead=1.0),
    "verse": dict(drums=0.85, bass=1.0, harmony=0.9, lead=0.0),
    "prechorus": dict(drums=0.9, bass=1.0, harmony=1.0, lead=0.0),
    "chorus": dict(drums=1.0, bass=1.0, harmony=1.0, lead=0.6),
    "bridge": dict(drums=0.6, bass=1.0, harmony=1.0, lead=0.4),
    "break": dict(drums=1.0, bass=1.0, harmony=0.8, lead=1.0),
    "outro": dict(drums=0.4, bass=1.0, harmony=1.0, lead=0.5),
}
_KIND_ALIASES = {
    "hook": "chorus",
    "refrain": "chorus",
    "pre chorus": "prechorus",
    "prechorus": "prechorus",
    "build": "prechorus",
    "instrumental": "break",
    "solo": "break",
    "interlude": "break",
    "drop": "break",
    "breakdown": "bridge",
    "middle 8": "bridge",
    "ending": "outro",
    "end": "outro",
}


def stable_seed(*parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass(frozen=True)
class Prompt:
    text: str
    strength: float = 1.0  # 0-1
    start: float = 0.0  # 0-1 of the song
    end: float = 1.0


@dataclass(frozen=True)
class Section:
    kind: str
    bars: int
    lines: tuple[str, ...] = ()


@dataclass
class SongSpec:
    """What a request asks for, on 0–1 scales, independent of dialect."""

    prompts: list[Prompt]
    lyrics: str = ""
    instrumental: bool = False
    seed: int = 0
    variant: int = 0
    duration: float | None = None
    lyrics_strength: float = 0.7
    weirdness: float = 0.2
    variation: float = 0.5
    # The shortest song; only the engine's song_seconds option (benchmarks, demos) lowers it.
    min_seconds: float = MIN_SECONDS


@dataclass
class Plan:
    bpm: float
    root: int  # pitch class of the key, 0 = C
    mode: str
    sections: list[Section]
    styles: list[Style]  # one per section
    seeds: dict[str, int]
    vocals: bool
    lyrics_strength: float
    weirdness: float
    voice_shift: float  # formant scale: 1.0 lower voice, ~1.15 higher voice
    voice_octave: int  # 0 or -12: the singer's octave relative to the written melody
    melody_alter: float = 0.0  # share of melody notes redrawn (covers)
    alter_seed: int = 0
    chords: dict[str, list[int]] = field(default_factory=dict)  # fixed progressions per section kind

    @property
    def bar_seconds(self) -> float:
        return 240.0 / self.bpm

    @property
    def bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def duration(self) -> float:
        return self.bars * self.bar_seconds + TAIL_SECONDS

    @property
    def samples(self) -> int:
        return int(round(self.duration * SR))

    def describe(self) -> dict:
        names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
        bar = self.bar_seconds
        return {
            "bpm": round(self.bpm, 2),
            "key": f"{names[self.root]} {self.mode}",
            "style": self.styles[0].name,
            "sections": [
                {"kind": s.kind, "start": round(start * bar, 6), "end": round((start + s.bars) * bar, 6)}
                for s, start in zip(self.sections, self.section_starts())
            ],
        }

    def sung_lines(self) -> list[tuple[str, float, float]]:
        """(line, start, end) in seconds for every line the voice sings, in order: what a
        service reports as timed lyrics. Timing follows _render_vocals: line i of a section
        starts 2·i bars in, and its notes' steps say when its last syllable ends."""
        if not self.vocals:
            return []
        bar = self.bar_seconds
        sung = []
        for section, style, start_bar in zip(self.sections, self.styles, self.section_starts()):
            chords = progression(self, section.kind, style) if section.lines else []
            for i, line in enumerate(section.lines):
                count = len(voice.syllables(line)[:16] or ["oh"])
                notes = melody_notes(self, section.kind, i, count, chords, 2 * i)
                origin = (start_bar + 2 * i) * bar
                first, last = notes[0], notes[-1]
                sung.append((line, origin + first[0] * bar / 16, origin + (last[0] + last[1]) * bar / 16))
        return sung

    def section_starts(self) -> list[int]:
        starts, bar = [], 0
        for s in self.sections:
            starts.append(bar)
            bar += s.bars
        return starts

    def rng(self, layer: str, *salt: object) -> np.random.Generator:
        return np.random.default_rng(stable_seed(self.seeds[layer], layer, *salt))


# Planning -------------------------------------------------------------------------


def _kind(marker: str) -> str:
    text = re.sub(r"[^a-z ]+", " ", marker.lower()).strip()
    text = re.sub(r"\s+", " ", text)
    for alias, kind in _KIND_ALIASES.items():
        if text.startswith(alias):
            return kind
    for kind in ARRANGEMENT:
        if text.startswith(kind):
            return kind
    return "verse"


def sections_from_lyrics(lyrics: str) -> list[Section]:
    """Lyrics markers become sections; each sung line takes two bars."""
    parsed: list[tuple[str, list[str]]] = []
    for raw in lyrics.splitlines():
        line = raw.strip()
        if not line:
            continue
        marker = re.fullmatch(r"[\[(]([^\])]+)[\])]", line)
        if marker:
            parsed.append((_kind(marker.group(1)), []))
            continue
        if not parsed:
            parsed.append(("verse", []))
        parsed[-1][1].append(line)
    sections = []
    for kind, lines in parsed:
        if lines:
            bars = max(4, 2 * len(lines))
            bars += bars % 4 and 4 - bars % 4
        else:
            bars = 4 if kind in ("intro", "outro") else 8
        sections.append(Section(kind, bars, tuple(lines)))
    return sections


def has_sung_lyrics(lyrics: str) -> bool:
    return any(s.lines for s in sections_from_lyrics(lyrics or ""))


def default_sections(total_bars: int) -> list[Section]:
    """A pop form sized to total_bars: intro, verse/chorus pairs, a bridge, an outro."""
    if total_bars <= 12:
        return [Section("verse", max(4, total_bars - 4)), Section("outro", 4)]
    sections = [Section("intro", 4)]
    body = total_bars - 8
    cycle = ["verse", "chorus", "verse", "chorus", "bridge", "chorus", "break", "chorus"]
    i = 0
    # Phrases come in fours and eights; an odd remainder lengthens the outro.
    while body >= 4:
        bars = 8 if body >= 8 else 4
        sections.append(Section(cycle[i % len(cycle)], bars))
        body -= bars
        i += 1
    sections.append(Section("outro", 4 + body))
    return sections


def fit_sections(sections: list[Section], bar_seconds: float, target: float) -> list[Section]:
    """Stretch (with instrumental breaks) or cut (whole sections) toward target seconds."""
    sections = list(sections)
    if not sections or sections[0].kind != "intro":
        sections.insert(0, Section("intro", 4))
    if sections[-1].kind != "outro":
        sections.append(Section("outro", 4))
    max_bars = int((MAX_SECONDS - TAIL_SECONDS) / bar_seconds)
    target_bars = int(np.ceil((target - TAIL_SECONDS) / bar_seconds))
    chorus = next((s for s in sections if s.kind == "chorus"), None)
    while sum(s.bars for s in sections) < target_bars:
        # A lyric song that is too short gets its chorus again, else a break.
        extra = chorus if chorus is not None and sum(s.bars for s in sections) + chorus.bars <= max_bars else Section("break", 4)
        sections.insert(len(sections) - 1, extra)
    while sum(s.bars for s in sections) > max_bars and len(sections) > 3:
        sections.pop(-2)
    excess = sum(s.bars for s in sections) - max_bars
    if excess > 0:
        # One section alone is too long (a very long verse): sing only what fits.
        body = max(sections, key=lambda s: s.bars)
        bars = max(4, (body.bars - excess) // 2 * 2)
        sections[sections.index(body)] = Section(body.kind, bars, body.lines[: bars // 2])
    return sections


def plan_song(spec: SongSpec) -> Plan:
    prompts = spec.prompts or [Prompt("pop")]
    seeds = {
        layer: stable_seed(spec.seed, spec.variant if spec.variation >= threshold and spec.variant else 0, layer)
        for layer, threshold in VARIATION_THRESHOLDS.items()
    }
    main = max(prompts, key=lambda p: p.strength * (p.end - p.start))
    main_style = style_for(main)
    weird = min(max(spec.weirdness, 0.0), 1.0)
    key_rng = np.random.default_rng(stable_seed(seeds["key"], "key"))
    root = int(key_rng.choice([0, 2, 4, 5, 7, 9, 10, 11, 1, 3, 6, 8], p=_KEY_WEIGHTS))
    mode = main_style.mode
    if weird > 0.7:
        mode = "phrygian" if mode in ("minor", "dorian") else "mixolydian"
    bpm = main_style.bpm * (1.0 + (key_rng.random() - 0.5) * 0.06)  # variants drift a few %
    bar_seconds = 240.0 / bpm

    sung = has_sung_lyrics(spec.lyrics)
    if sung:
        sections = fit_sections(
            sections_from_lyrics(spec.lyrics), bar_seconds, max(spec.min_seconds, spec.duration or 0.0)
        )
    else:
        target = min(max(spec.duration or DEFAULT_SECONDS, spec.min_seconds), MAX_SECONDS)
        bars = max(4, int(round((target - TAIL_SECONDS) / bar_seconds)))
        sections = default_sections(bars)
        while (sum(s.bars for s in sections) * bar_seconds + TAIL_SECONDS) < spec.min_seconds:
            sections.insert(-1, Section("break", 4))

    total = sum(s.bars for s in sections)
    styles, bar = [], 0
    for section in sections:
        middle = (bar + section.bars / 2) / total
        active = [p for p in prompts if p.start <= middle <= p.end] or [main]
        styles.append(style_for(max(active, key=lambda p: p.strength)))
        bar += section.bars
    timbre = np.random.default_rng(stable_seed(seeds["timbre"], "voice"))
    high = bool(timbre.random() < 0.5)
    return Plan(
        bpm=round(bpm, 3),
        root=root,
        mode=mode,
        sections=sections,
        styles=styles,
        seeds=seeds,
        vocals=sung and not spec.instrumental,
        lyrics_strength=min(max(spec.lyrics_strength, 0.0), 1.0),
        weirdness=weird,
        voice_shift=1.14 if high else 1.0,
        voice_octave=0 if high else -12,
    )


_KEY_WEIGHTS = np.array([3, 3, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1], dtype=float)
_KEY_WEIGHTS /= _KEY_WEIGHTS.sum()


def style_for(prompt: Prompt) -> Style:
    # A weak prompt still colours the song; 0.7 of strength already gives the full style.
    weight = min(1.0, 0.1 + 1.3 * prompt.strength)
    return blend(parse_style(prompt.text), POP, weight)


# Harmony helpers -----------------------------------------------------------------


def _scale(plan: Plan) -> tuple[int, ...]:
    return MODES[plan.mode]


def degree_midi(plan: Plan, degree: int, base: int) -> int:
    scale = _scale(plan)
    return base + plan.root + scale[degree % 7] + 12 * (degree // 7)


def progression(plan: Plan, kind: str, style: Style) -> list[int]:
    if kind in plan.chords:
        return list(plan.chords[kind])
    rng = plan.rng("chords", kind)
    choices = style.progressions
    prog = list(choices[int(rng.integers(len(choices)))])
    if kind == "bridge":
        prog = prog[2:] + prog[:2]
        prog[0] = (prog[0] + 3) % 7
    if kind == "prechorus":
        prog = [3, 4, 3, 4]
    for i in range(len(prog)):
        if rng.random() < plan.weirdness * 0.35:
            prog[i] = int(rng.integers(7))
    return prog


def chord_shift(plan: Plan, kind: str, bar: int) -> int:
    """Semitones a weird song pushes this bar's chord off the scale (0 when tame).

    Bass and harmony both apply it, so the band agrees on the strange chord while
    the melody stays in the key and rubs against it.
    """
    roll = stable_seed(plan.seeds["chords"], "shift", kind, bar) % 1000 / 1000.0
    # Off-key chords start above the default weirdness (0.2): a plain request stays in key.
    if roll >= max(0.0, plan.weirdness - 0.25) * 0.67:
        return 0
    return (1, -1, 6)[stable_seed(plan.seeds["chords"], "by", kind, bar) % 3]


def chord_notes(plan: Plan, degree: int, style: Style, base: int = 52) -> list[int]:
    tones = [degree, degree + 2, degree + 4]
    if style.name in ("jazz", "lofi") or plan.weirdness > 0.6:
        tones.append(degree + 6)
    notes = [degree_midi(plan, d, 0) for d in tones]
    lowest = notes[0]
    shift = base - lowest + ((lowest - base) % 12)
    return [n + shift for n in notes]


# Rendering ------------------------------------------------------------------------


class Bus:
    """A stereo buffer with note placement; clips what falls past its end."""

    def __init__(self, n: int):
        self.data = np.zeros((n, 2), dtype=np.float32)

    def add(self, start: int, wave: np.ndarray, gain: float, pan: float = 0.0) -> None:
        n = len(self.data)
        if start >= n or gain == 0.0:
            return
        if start < 0:
            wave, start = wave[-start:], 0
        end = min(n, start + len(wave))
        seg = wave[: end - start]
        angle = (pan + 1.0) * np.pi / 4.0
        self.data[start:end, 0] += seg * np.float32(gain * np.cos(angle) * 1.414)
        self.data[start:end, 1] += seg * np.float32(gain * np.sin(angle) * 1.414)


def ambience(data: np.ndarray, amount: float) -> np.ndarray:
    """Early-reflection room: a few delayed, panned copies. Cheap and stereo-widening."""
    out = data.copy()
    mono = data[:, 0] + data[:, 1]
    for delay, gain, side in ((0.031, 0.35, 0), (0.047, 0.3, 1), (0.071, 0.22, 0), (0.113, 0.16, 1), (0.167, 0.1, 0)):
        d = int(delay * SR)
        if d < len(data):
            out[d:, side] += mono[:-d] * np.float32(gain * amount * 0.5)
    return out


def render(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Render a Plan to (vocals, instrumental), float32 stereo arrays of equal length."""
    instrumental = render_instrumental(plan)
    vocals = render_vocals(plan, plan.samples) if plan.vocals else np.zeros_like(instrumental)
    _fade_out(vocals, int(TAIL_SECONDS * SR))
    return vocals, instrumental


def render_instrumental(plan: Plan) -> np.ndarray:
    with instruments.note_cache():
        return _render_instrumental(plan)


def _render_instrumental(plan: Plan) -> np.ndarray:
    n = plan.samples
    instrumental = Bus(n)
    bar_samples = plan.bar_seconds * SR
    loops: dict[tuple, np.ndarray] = {}
    for section, style, start_bar in zip(plan.sections, plan.styles, plan.section_starts()):
        key = (section.kind, section.bars, style)
        if key not in loops:
            # A section kind renders once and repeats: a chorus repeats its music.
            loops[key] = _render_section(plan, section, style)
        _add_stereo(instrumental.data, int(round(start_bar * bar_samples)), loops[key])
    inst = instrumental.data
    inst *= np.float32(0.62 / peak(inst))
    _fade_out(inst, int(TAIL_SECONDS * SR))
    return inst


def _add_stereo(dest: np.ndarray, start: int, src: np.ndarray) -> None:
    end = min(len(dest), start + len(src))
    if end > start:
        dest[start:end] += src[: end - start]


def _fade_out(data: np.ndarray, length: int) -> None:
    length = min(length, len(data))
    data[len(data) - length :] *= np.linspace(1.0, 0.0, length, dtype=np.float32)[:, None]


def _step_times(plan: Plan, style: Style) -> np.ndarray:
    """Sample offsets of the 16 steps of a bar, swing applied to the off-16ths."""
    step = plan.bar_seconds / 16.0
    t = np.arange(16) * step
    t[1::2] += style.swing * step
    return np.round(t * SR).astype(int)


def _render_section(plan: Plan, section: Section, style: Style) -> np.ndarray:
    arrangement = ARRANGEMENT[section.kind]
    bar_len = int(round(plan.bar_seconds * SR))
    bus = Bus(bar_len * section.bars + int(SR * 2.0))
    chords = progression(plan, section.kind, style)
    steps = _step_times(plan, style)
    human = plan.rng("humanize", section.kind)
    weird = plan.weirdness
    detune = lambda: float(human.normal(0.0, 3.0 + 25.0 * weird))  # noqa: E731

    if arrangement["drums"] and style.drum_level:
        _drums(plan, section, style, bus, steps, bar_len, arrangement["drums"] * style.drum_level)
    if arrangement["bass"]:
        _bass(plan, section, style, bus, steps, bar_len, chords, arrangement["bass"], detune)
    if arrangement["harmony"]:
        harmony = Bus(len(bus.data))
        _harmony(plan, section, style, harmony, steps, bar_len, chords, arrangement["harmony"], detune)
        bus.data += ambience(harmony.data, 0.8)
    lead_level = arrangement["lead"] * (0.35 if plan.vocals and section.kind != "break" else 1.0)
    if style.lead and lead_level and (not plan.vocals or section.kind in ("intro", "break", "outro", "chorus")):
        lead = Bus(len(bus.data))
        _lead(plan, section, style, lead, bar_len, chords, lead_level, detune)
        bus.data += ambience(lead.data, 1.0)
    if weird > 0.3:
        # Weirdness also frays the sound: a ring-modulated shimmer over the bar.
        t = np.arange(len(bus.data), dtype=np.float32) / SR
        ring = np.sin(2.0 * np.pi * (37.0 + 80.0 * weird) * t).astype(np.float32)
        bus.data += bus.data * ring[:, None] * np.float32((weird - 0.3) * 0.6)
    return bus.data


def _drums(plan, section, style, bus, steps, bar_len, level):
    rng = plan.rng("drums", section.kind, style.name)
    kit_seed = plan.seeds["timbre"] % 1000
    parts = (
        ("kick", style.kick, 1.0, 0.0),
        ("snare", style.snare, 0.8, 0.05),
        ("hat", style.hat, 0.2, 0.3),
        ("open_hat", style.open_hat, 0.16, -0.3),
    )
    for bar in range(section.bars):
        origin = bar * bar_len
        last = bar == section.bars - 1 and section.bars >= 4 and section.kind != "outro"
        for name, pattern, gain, pan in parts:
            if not pattern:
                continue
            if section.kind == "intro" and name == "snare":
                continue
            for step, ch in enumerate(pattern):
                hit = ch in "xo"
                if not hit and name in ("kick", "hat") and rng.random() < plan.weirdness * 0.12:
                    hit, ch = True, "o"  # weirdness scatters stray hits
                if not hit:
                    continue
                if name == "hat" and rng.random() > style.hat_density:
                    continue
                if last and step >= 12 and name in ("hat", "open_hat"):
                    continue
                g = gain * (0.45 if ch == "o" else 1.0) * (0.9 + 0.2 * rng.random())
                bus.add(origin + steps[step], instruments.drum(name, style.drum_kit, kit_seed), g * level, pan)
        if last:
            # A fill into the next section: four rising snare sixteenths.
            for i, step in enumerate(range(12, 16)):
                bus.add(origin + steps[step], instruments.drum("snare", style.drum_kit, kit_seed), 0.35 * (1 + i * 0.25) * level, 0.05)
    if section.kind in ("chorus", "break"):
        bus.add(0, instruments.drum("crash", style.drum_kit, kit_seed), 0.35 * level, -0.2)


def _bass(plan, section, style, bus, steps, bar_len, chords, level, detune):
    pattern = style.bass_pattern
    offsets = {"R": 0, "5": 4, "8": 7}
    brightness = round(style.brightness, 2)
    for bar in range(section.bars):
        degree = chords[bar % len(chords)]
        shift = chord_shift(plan, section.kind, bar)
        origin = bar * bar_len
        hits = [i for i, ch in enumerate(pattern) if ch in offsets]
        for j, step in enumerate(hits):
            end = hits[j + 1] if j + 1 < len(hits) else 16
            # "-" after a note holds it; "." cuts it at the next step.
            hold = step + 1
            while hold < end and pattern[hold] == "-":
                hold += 1
            length = int((hold - step) * bar_len / 16 * 0.95)
            midi = degree_midi(plan, degree + offsets[pattern[step]], 24) + shift
            while midi < 33:
                midi += 12
            if plan.weirdness and (stable_seed(plan.seeds["chords"], bar, step) % 100) < plan.weirdness * 20:
                midi += 1
            accent = 1.0 if style.bass != "acid" or step % 3 == 0 else 0.7
            wave = instruments.note(style.bass, int(midi), length, brightness * accent, round(detune(), 0))
            bus.add(origin + steps[step], wave, 0.55 * level * accent, 0.0)


def _harmony(plan, section, style, bus, steps, bar_len, chords, level, detune):
    inst = style.harmony
    brightness = round(style.brightness, 2)
    beat = bar_len // 4
    for bar in range(section.bars):
        shift = chord_shift(plan, section.kind, bar)
        notes = [n + shift for n in chord_notes(plan, chords[bar % len(chords)], style)]
        origin = bar * bar_len
        rhythm = style.harmony_rhythm
        if rhythm == "sustain":
            hits = [(0, bar_len + beat // 2, 0.0)]
        elif rhythm == "quarters":
            hits = [(steps[s], int(beat * 0.9), 0.0) for s in (0, 4, 8, 12)]
        elif rhythm == "offbeat":
            hits = [(steps[s], int(beat * 0.45), 0.0) for s in (2, 6, 10, 14)]
        elif rhythm == "strum":
            hits = [(steps[s], int(beat * 0.95), 0.012) for s in (0, 4, 8, 10, 12)]
        elif rhythm == "stab":
            hits = [(steps[s], int(beat * 0.3), 0.0) for s in (0, 6, 10)]
        else:  # arp: chord tones one by one, each left ringing
            for i, s in enumerate(range(0, 16, 2)):
                midi = notes[i % len(notes)] + (12 if i % 8 >= 4 else 0)
                wave = instruments.note(inst, midi, int(beat * 1.5), brightness, round(detune(), 0))
                bus.add(origin + steps[s], wave, 0.28 * level, -0.25 + 0.5 * (i % 2))
            continue
        for start, length, spread in hits:
            for i, midi in enumerate(notes):
                wave = instruments.note(inst, midi, length, brightness, round(detune(), 0))
                bus.add(origin + start + int(i * spread * SR), wave, 0.22 * level, -0.4 + 0.8 * i / max(1, len(notes) - 1))


def melody_notes(plan: Plan, kind: str, line: int, count: int, chords: list[int], bar0: int) -> list[tuple[int, int, int]]:
    """(start step, length in steps, midi) for a two-bar phrase of count notes.

    The contour is seeded by section kind and line slot, so every chorus sings the
    same tune and the n-th line of each verse shares a shape.
    """
    rng = plan.rng("melody", kind, line % 4, count)
    count = max(1, min(count, 16))
    base = max(1, min(4, 26 // count))
    starts, pos = [], 0
    for i in range(count):
        starts.append(pos)
        step = base
        if base == 2 and i % 2 == 0 and rng.random() < 0.3:
            step = 3  # a dotted figure now and then
        pos = min(pos + step, 30 - (count - i - 1))
    starts = [min(s, 31) for s in starts]
    ends = starts[1:] + [min(32, max(starts[-1] + 4, 30))]
    lift = 2 if kind == "chorus" else (1 if kind == "prechorus" else 0)
    degree = int(rng.choice([0, 2, 4])) + lift
    notes = []
    alter = np.random.default_rng(stable_seed(plan.alter_seed, kind, line, count))
    for i, (s, e) in enumerate(zip(starts, ends)):
        if i:
            degree += int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3 if plan.weirdness > 0.5 else -1]))
            degree = min(max(degree, -2), 9)
        chord = chords[(bar0 + s // 16) % len(chords)]
        if s % 8 == 0:
            tones = [chord + o for o in (-7, -5, -3, 0, 2, 4, 7)]
            degree = min(tones, key=lambda d: abs(d - degree))
        final = degree
        if plan.melody_alter and alter.random() < plan.melody_alter:
            final = degree + int(alter.choice([-3, -2, 2, 3]))
        midi = degree_midi(plan, final, 60)
        if rng.random() < plan.weirdness * 0.3:
            midi += int(rng.choice([-1, 1]))  # chromatic colour
        notes.append((s, max(1, e - s), int(midi)))
    return notes


def _lead(plan, section, style, bus, bar_len, chords, level, detune):
    brightness = round(style.brightness, 2)
    step_len = bar_len / 16
    for phrase in range(section.bars // 2):
        for s, length, midi in melody_notes(plan, section.kind, phrase, 8, chords, phrase * 2):
            wave = instruments.note(style.lead, midi + 12, int(length * step_len * 0.9), brightness, round(detune(), 0))
            bus.add(int(phrase * 2 * bar_len + s * step_len), wave, 0.25 * level, 0.2)


def render_vocals(plan: Plan, n: int) -> np.ndarray:
    """Only the vocal stem of a Plan, n samples long."""
    with instruments.note_cache():
        return _render_vocals(plan, n)


def _render_vocals(plan: Plan, n: int) -> np.ndarray:
    out = np.zeros((n, 2), np.float32)
    bar_samples = plan.bar_seconds * SR
    step_len = bar_samples / 16
    strength = plan.lyrics_strength
    for section, style, start_bar in zip(plan.sections, plan.styles, plan.section_starts()):
        if not section.lines:
            continue
        # Each section is sung into its own short buffer so the room effect never
        # needs a second song-length buffer.
        bus = Bus(int(section.bars * bar_samples + SR))
        chords = progression(plan, section.kind, style)
        for i, line in enumerate(section.lines):
            sung = voice.syllables(line)[:16] or ["oh"]
            notes = melody_notes(plan, section.kind, i, len(sung), chords, 2 * i)
            rng = plan.rng("melody", "diction", section.kind, i)
            # A singer never lands exactly on the grid; each variant phrases a little differently.
            feel = plan.rng("humanize", "voice", section.kind, i)
            origin = 2 * i * bar_samples
            previous = None
            for syl, (s, length, midi) in zip(sung, notes):
                vowel, onset = voice.vowel_of(syl), voice.onset_of(syl)
                # Weak lyric strength lets syllables blur into open vocalise.
                if rng.random() < (1.0 - strength) * 0.6:
                    vowel, onset = "@", ""
                # Legato: each syllable rings a little into the next one, which
                # starts by sliding over from the previous pitch.
                samples = int(length * step_len + LEGATO_SECONDS * SR)
                glide = 0 if previous is None else max(-7, min(7, previous - midi))
                previous = midi
                wave = voice.sing(
                    vowel, onset, midi + plan.voice_octave,
                    samples, plan.voice_shift, round(strength, 2), plan.seeds["timbre"] % 997, glide,
                )
                late = int(feel.normal(0.0, 0.006) * SR)
                bus.add(max(0, int(origin + s * step_len) + late), wave, 1.0, 0.0)
        _add_stereo(out, int(round(start_bar * bar_samples)), ambience(bus.data, 0.7))
    # Level by loudness, not peak: a sung line is dense, so peak-normalising it
    # would bury the band. Lyrics strength moves the voice forward in the mix.
    flat = out.reshape(-1)
    loudness = float(np.sqrt(np.vdot(flat, flat) / max(1, flat.size))) or 1.0
    gain = min((0.03 + 0.07 * strength) / loudness, 0.9 / peak(out))
    out *= np.float32(gain)
    return out


BLOCK = 1 << 18


def peak(data: np.ndarray) -> float:
    """Largest absolute sample (1.0 for silence), without a song-length temporary."""
    top = max((float(np.abs(data[i : i + BLOCK]).max(initial=0.0)) for i in range(0, len(data), BLOCK)), default=0.0)
    return top or 1.0


def mix(vocals: np.ndarray, instrumental: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sum the stems through a per-sample soft limiter; float32 or int16 stems.

    The limiter is pointwise on purpose: where two songs share their stems, their
    mixes are identical sample for sample, which is what the transforms promise.
    Worked in blocks so a long song needs no full-length temporaries; pass
    out=instrumental (float32) to mix in place when the stems are no longer needed.
    """
    out = np.empty(instrumental.shape, np.float32) if out is None else out
    knee = np.float32(0.8)
    for start in range(0, len(out), BLOCK):
        x = out[start : start + BLOCK]
        x[:] = _as_float(instrumental[start : start + BLOCK])
        x += _as_float(vocals[start : start + BLOCK])
        over = np.abs(x) > knee
        if over.any():
            y = x[over]
            x[over] = np.sign(y) * (knee + (1 - knee) * np.tanh((np.abs(y) - knee) / (1 - knee)))
    return out


def _as_float(block: np.ndarray) -> np.ndarray:
    if block.dtype == np.int16:
        return block.astype(np.float32) / np.float32(32767.0)
    return block
