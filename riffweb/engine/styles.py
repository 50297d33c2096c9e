"""From words to musical choices: style tags and sound prompts become a Style.

A Style is everything the composer needs to sound like a genre: tempo, mode, drum
pattern, bass line and harmony rhythm, and which synthesised instrument plays each
part. Free text is matched against keyword lists; the best-scoring genre wins and
a few modifier words ("slow", "dark", "piano", ...) adjust it. Unmatched text falls
back to pop, so every prompt produces something that sounds intentional.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# Drum patterns are 16 steps per bar; "x" is a hit, "o" a softer (ghost) hit.
# Bass patterns use "R" root, "5" fifth, "8" octave above, "-" hold/rest.


@dataclass(frozen=True)
class Style:
    name: str
    bpm: float
    mode: str  # a key of MODES
    kick: str
    snare: str
    hat: str
    open_hat: str
    drum_kit: str  # "electronic", "acoustic", "brush", "808"
    drum_level: float
    bass: str  # instrument in composer.BASSES
    bass_pattern: str
    harmony: str  # instrument in composer.HARMONIES
    harmony_rhythm: str  # "sustain", "quarters", "offbeat", "strum", "arp", "stab"
    lead: str  # instrument for the instrumental hook, "" for none
    progressions: tuple[tuple[int, ...], ...]  # scale degrees, one per bar
    brightness: float  # 0 dark .. 1 bright: scales upper harmonics
    swing: float  # 0 straight .. 0.33 triplet swing of off-16ths
    hat_density: float  # fraction of written hats kept (lets "sparse" thin them)


MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}

POP = Style(
    name="pop",
    bpm=108,
    mode="major",
    kick="x.....x.x.......",
    snare="....x.......x...",
    hat="x.x.x.x.x.x.x.x.",
    open_hat="..............x.",
    drum_kit="electronic",
    drum_level=0.8,
    bass="picked",
    bass_pattern="R-R-R-R-R-R-5-R-",
    harmony="piano",
    harmony_rhythm="quarters",
    lead="pluck",
    progressions=((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4)),
    brightness=0.6,
    swing=0.0,
    hat_density=1.0,
)

STYLES: dict[str, Style] = {
    "pop": POP,
    "ballad": replace(
        POP,
        name="ballad",
        bpm=68,
        kick="x.......x.......",
        snare="........x.......",
        hat="",
        open_hat="",
        drum_kit="brush",
        drum_level=0.35,
        bass="upright",
        bass_pattern="R-------5-------",
        harmony="piano",
        harmony_rhythm="arp",
        lead="",
        progressions=((0, 5, 3, 4), (0, 4, 5, 3), (5, 3, 0, 4)),
        brightness=0.3,
    ),
    "drum and bass": replace(
        POP,
        name="drum and bass",
        bpm=174,
        mode="minor",
        kick="x.........x.....",
        snare="....x..o.o..x...",
        hat="x.xxx.x.x.xxx.x.",
        open_hat="......x.......x.",
        drum_kit="electronic",
        drum_level=1.0,
        bass="reese",
        bass_pattern="R-------R-----5-",
        harmony="pad",
        harmony_rhythm="sustain",
        lead="bell",
        progressions=((0, 5, 3, 6), (0, 3, 5, 4), (0, 6, 5, 6)),
        brightness=0.75,
    ),
    "acid techno": replace(
        POP,
        name="acid techno",
        bpm=134,
        mode="phrygian",
        kick="x...x...x...x...",
        snare="....x.......x...",
        hat="..x...x...x...x.",
        open_hat="..x...x...x...x.",
        drum_kit="electronic",
        drum_level=1.0,
        bass="acid",
        bass_pattern="RR8RR5R8RRR5R8R5",
        harmony="stab",
        harmony_rhythm="stab",
        lead="",
        progressions=((0, 0, 0, 0), (0, 0, 1, 0), (0, 0, 6, 0)),
        brightness=0.95,
    ),
    "techno": replace(
        POP,
        name="techno",
        bpm=130,
        mode="minor",
        kick="x...x...x...x...",
        snare="....x.......x...",
        hat="xxxxxxxxxxxxxxxx",
        open_hat="..x...x...x...x.",
        drum_kit="electronic",
        drum_level=1.0,
        bass="sub",
        bass_pattern="..R...R...R...R.",
        harmony="pad",
        harmony_rhythm="stab",
        lead="bell",
        progressions=((0, 0, 5, 6), (0, 3, 0, 4)),
        brightness=0.85,
    ),
    "house": replace(
        POP,
        name="house",
        bpm=124,
        mode="minor",
        kick="x...x...x...x...",
        snare="....x.......x...",
        hat="..x...x...x...x.",
        open_hat="..x...x...x...x.",
        bass="sub",
        bass_pattern="..R-..R-..R-..5-",
        harmony="organ",
        harmony_rhythm="offbeat",
        lead="pluck",
        progressions=((0, 5, 3, 4), (0, 3, 6, 5)),
        brightness=0.7,
    ),
    "country": replace(
        POP,
        name="country",
        bpm=112,
        mode="major",
        kick="x.......x.......",
        snare="....x.......x...",
        hat="x.x.x.x.x.x.x.x.",
        open_hat="",
        drum_kit="acoustic",
        drum_level=0.65,
        bass="picked",
        bass_pattern="R---5---R---5---",
        harmony="guitar",
        harmony_rhythm="strum",
        lead="pluck",
        progressions=((0, 3, 4, 0), (0, 0, 3, 4), (0, 4, 3, 0)),
        brightness=0.55,
        swing=0.08,
    ),
    "hip hop": replace(
        POP,
        name="hip hop",
        bpm=88,
        mode="minor",
        kick="x......x.x......",
        snare="....x.......x...",
        hat="x.x.x.x.x.x.x.x.",
        open_hat="",
        drum_kit="808",
        bass="808",
        bass_pattern="R------R-R------",
        harmony="piano",
        harmony_rhythm="sustain",
        lead="bell",
        progressions=((0, 5, 3, 4), (0, 3, 5, 6)),
        brightness=0.45,
        swing=0.16,
    ),
    "trap": replace(
        POP,
        name="trap",
        bpm=140,
        mode="minor",
        kick="x.......x.x.....",
        snare="........x.......",
        hat="xxxxxxxxxxxxxxxx",
        open_hat="",
        drum_kit="808",
        bass="808",
        bass_pattern="R-------R-R-----",
        harmony="pad",
        harmony_rhythm="sustain",
        lead="bell",
        progressions=((0, 5, 3, 4), (0, 6, 5, 6)),
        brightness=0.55,
    ),
    "rock": replace(
        POP,
        name="rock",
        bpm=128,
        mode="major",
        kick="x.....x.x.x.....",
        snare="....x.......x...",
        hat="x.x.x.x.x.x.x.x.",
        open_hat="",
        drum_kit="acoustic",
        drum_level=0.95,
        bass="picked",
        bass_pattern="RRRRRRRRRRRRRRRR",
        harmony="power",
        harmony_rhythm="quarters",
        lead="",
        progressions=((0, 4, 5, 3), (0, 6, 3, 0), (0, 3, 4, 4)),
        brightness=0.8,
    ),
    "jazz": replace(
        POP,
        name="jazz",
        bpm=132,
        mode="dorian",
        kick="x.......x.......",
        snare="......o.......o.",
        hat="x...x.xxx...x.xx",
        open_hat="",
        drum_kit="brush",
        drum_level=0.5,
        bass="upright",
        bass_pattern="R---5---8---5---",
        harmony="piano",
        harmony_rhythm="offbeat",
        lead="",
        progressions=((1, 4, 0, 0), (0, 5, 1, 4)),
        brightness=0.4,
        swing=0.3,
    ),
    "ambient": replace(
        POP,
        name="ambient",
        bpm=72,
        mode="major",
        kick="",
        snare="",
        hat="",
        open_hat="",
        drum_level=0.0,
        bass="sub",
        bass_pattern="R---------------",
        harmony="pad",
        harmony_rhythm="sustain",
        lead="bell",
        progressions=((0, 3, 5, 4), (0, 5, 3, 3)),
        brightness=0.35,
    ),
    "lofi": replace(
        POP,
        name="lofi",
        bpm=80,
        mode="dorian",
        kick="x......x..x.....",
        snare="....x.......x...",
        hat="x.x.x.x.x.x.x.x.",
        open_hat="",
        drum_kit="brush",
        drum_level=0.6,
        bass="upright",
        bass_pattern="R-----5-R-------",
        harmony="piano",
        harmony_rhythm="sustain",
        lead="",
        progressions=((1, 4, 0, 5), (0, 3, 1, 4)),
        brightness=0.3,
        swing=0.2,
    ),
    "reggae": replace(
        POP,
        name="reggae",
        bpm=76,
        mode="major",
        kick="........x.......",
        snare="........x.......",
        hat="x.x.x.x.x.x.x.x.",
        open_hat="",
        drum_kit="acoustic",
        drum_level=0.6,
        bass="sub",
        bass_pattern="R---R-5---8-5---",
        harmony="organ",
        harmony_rhythm="offbeat",
        lead="",
        progressions=((0, 3, 0, 4), (0, 5, 3, 4)),
        brightness=0.5,
        swing=0.12,
    ),
    "funk": replace(
        POP,
        name="funk",
        bpm=108,
        mode="dorian",
        kick="x.....x...x..x..",
        snare="....x..o....x..o",
        hat="xxxxxxxxxxxxxxxx",
        open_hat="",
        drum_kit="acoustic",
        drum_level=0.85,
        bass="picked",
        bass_pattern="R..8..R.5.R..8R.",
        harmony="guitar",
        harmony_rhythm="offbeat",
        lead="",
        progressions=((0, 0, 3, 3), (0, 3, 0, 4)),
        brightness=0.7,
        swing=0.06,
    ),
    "trance": replace(
        POP,
        name="trance",
        bpm=138,
        mode="minor",
        kick="x...x...x...x...",
        snare="....x.......x...",
        hat="..x...x...x...x.",
        open_hat="..x...x...x...x.",
        bass="sub",
        bass_pattern=".RR..RR..RR..RR.",
        harmony="pad",
        harmony_rhythm="arp",
        lead="saw",
        progressions=((0, 5, 3, 6), (5, 3, 0, 4)),
        brightness=0.9,
    ),
}

# Longer phrases first so "acid techno" beats "techno" and "drum and bass" beats "bass".
_GENRE_WORDS: list[tuple[str, str]] = [
    ("drum and bass", "drum and bass"),
    ("drum n bass", "drum and bass"),
    ("dnb", "drum and bass"),
    ("d and b", "drum and bass"),
    ("jungle", "drum and bass"),
    ("liquid", "drum and bass"),
    ("breakbeat", "drum and bass"),
    ("acid techno", "acid techno"),
    ("acid house", "acid techno"),
    ("acid", "acid techno"),
    ("303", "acid techno"),
    ("rave", "acid techno"),
    ("techno", "techno"),
    ("industrial", "techno"),
    ("deep house", "house"),
    ("house", "house"),
    ("disco", "house"),
    ("edm", "trance"),
    ("trance", "trance"),
    ("synthwave", "trance"),
    ("dance", "house"),
    ("country", "country"),
    ("bluegrass", "country"),
    ("americana", "country"),
    ("folk", "country"),
    ("honky", "country"),
    ("western", "country"),
    ("banjo", "country"),
    ("ballad", "ballad"),
    ("hip hop", "hip hop"),
    ("hiphop", "hip hop"),
    ("rap", "hip hop"),
    ("boom bap", "hip hop"),
    ("trap", "trap"),
    ("drill", "trap"),
    ("metal", "rock"),
    ("punk", "rock"),
    ("grunge", "rock"),
    ("rock", "rock"),
    ("indie", "rock"),
    ("jazz", "jazz"),
    ("swing", "jazz"),
    ("bebop", "jazz"),
    ("bossa", "jazz"),
    ("ambient", "ambient"),
    ("drone", "ambient"),
    ("cinematic", "ambient"),
    ("meditation", "ambient"),
    ("lofi", "lofi"),
    ("lo fi", "lofi"),
    ("chillhop", "lofi"),
    ("chill", "lofi"),
    ("reggae", "reggae"),
    ("dub", "reggae"),
    ("ska", "reggae"),
    ("funk", "funk"),
    ("soul", "funk"),
    ("r and b", "funk"),
    ("rnb", "funk"),
    ("pop", "pop"),
]


def normalise_text(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("'n'", " n ").replace("-", " ")
    return " " + re.sub(r"[^a-z0-9]+", " ", text).strip() + " "


def genre_of(text: str) -> str | None:
    """The first genre named in text (longest phrases win), or None."""
    words = normalise_text(text)
    for phrase, genre in _GENRE_WORDS:
        if f" {phrase} " in words:
            return genre
    return None


def parse_style(text: str) -> Style:
    """Turn a tag string or sound prompt into a Style, with modifiers applied."""
    words = normalise_text(text)
    genre = genre_of(text)
    if genre is None and (" piano " in words and " slow " in words):
        genre = "ballad"
    style = STYLES[genre or "pop"]

    def has(*candidates: str) -> bool:
        return any(f" {c} " in words for c in candidates)

    bpm = style.bpm
    if has("slow", "downtempo", "laid back", "lazy") and bpm > 80:
        bpm *= 0.8  # a ballad is already slow; "slow ballad" should not crawl
    if has("fast", "uptempo", "energetic", "frantic", "hyper"):
        bpm *= 1.15
    explicit = re.search(r"\b(\d{2,3})\s*bpm\b", text.lower())
    if explicit:
        bpm = float(explicit.group(1))
    bpm = min(max(bpm, 50.0), 190.0)

    mode = style.mode
    if has("dark", "sad", "melancholic", "moody", "minor", "gloomy"):
        mode = "minor" if style.mode in ("major", "mixolydian") else style.mode
    if has("happy", "bright", "uplifting", "sunny", "major", "cheerful"):
        mode = "major"

    harmony = style.harmony
    if has("piano", "keys"):
        harmony = "piano"
    elif has("guitar", "acoustic"):
        harmony = "guitar"
    elif has("organ"):
        harmony = "organ"
    elif has("strings", "orchestral", "synth pad", "pads"):
        harmony = "pad"

    brightness = style.brightness
    if has("dark", "warm", "mellow", "soft"):
        brightness *= 0.7
    if has("bright", "crisp", "aggressive", "distorted", "heavy"):
        brightness = min(1.0, brightness * 1.25)

    hat_density = style.hat_density
    drum_level = style.drum_level
    if has("sparse", "minimal", "soft", "gentle"):
        hat_density *= 0.5
        drum_level *= 0.7
    if has("no drums", "drumless", "acapella"):
        drum_level = 0.0

    return replace(
        style,
        bpm=round(bpm, 2),
        mode=mode,
        harmony=harmony,
        brightness=round(brightness, 3),
        hat_density=hat_density,
        drum_level=drum_level,
    )


def blend(style: Style, base: Style, strength: float) -> Style:
    """Pull style toward base as strength falls from 1 to 0.

    Continuous traits (tempo, brightness, drum level, swing) are interpolated;
    discrete ones (patterns, instruments) switch to base below one half, so a
    weak prompt only colours the neutral song while a strong one takes it over.
    """
    s = min(max(strength, 0.0), 1.0)
    lerp = lambda a, b: round(b + (a - b) * s, 3)  # noqa: E731
    discrete = style if s >= 0.5 else base
    return replace(
        discrete,
        name=style.name,
        bpm=lerp(style.bpm, base.bpm),
        brightness=lerp(style.brightness, base.brightness),
        drum_level=lerp(style.drum_level, base.drum_level),
        swing=lerp(style.swing, base.swing),
        hat_density=lerp(style.hat_density, base.hat_density),
    )


# Topic words -> (style tag, mood words for generated lyrics).
_TOPIC_STYLES: list[tuple[tuple[str, ...], str]] = [
    (("truck", "road", "whiskey", "farm", "ranch", "dust", "cowboy", "small town"), "country"),
    (("club", "dance", "party", "weekend", "disco"), "house"),
    (("rave", "warehouse", "machine", "robot"), "acid techno"),
    (("city", "street", "hustle", "money", "block"), "hip hop"),
    (("rain", "study", "coffee", "sleep", "lazy", "sunday"), "lofi"),
    (("love", "heart", "goodbye", "miss", "tears", "memory"), "slow piano ballad"),
    (("space", "ocean", "stars", "dream", "sky"), "ambient"),
    (("speed", "chase", "run", "rush", "future"), "drum and bass"),
    (("fire", "rebel", "loud", "highway"), "rock"),
    (("beach", "island", "sun", "summer"), "reggae"),
]


def style_for_topic(topic: str) -> str:
    words = normalise_text(topic)
    named = genre_of(topic)
    if named:
        return named
    for keys, tag in _TOPIC_STYLES:
        if any(f" {k} " in words for k in keys):
            return tag
    return "pop"
