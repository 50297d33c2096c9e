"""Neutral audio helpers: check, decode, draw peaks, encode.

Shared by the local engine (which renders and transforms audio) and by the studio
(which checks every downloaded or uploaded file before trusting it). Decoding goes
through PyAV, whose wheels bundle FFmpeg, so mp3, m4a (AAC) and wav all work on a
fresh machine. This module imports no Django on purpose: callers pass the limits.

A small file can hold hours of audio (an hour of FLAC silence is half a megabyte), so
nothing here decodes before the container's header has been read and admitted: the
format and codec must be on the allow-list, the channels few, the declared length under
the caller's limit. Headers can lie, so decoding then counts what it actually decodes and
stops at the same limit; `check` keeps only a bounded peak summary, never the signal.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import lameenc
import numpy as np

NOT_AUDIO = "This file is not audio we can read."
TAKES = "use an mp3, m4a (AAC) or wav file"
MAX_SECONDS = 600.0  # the default limit; the studio passes RIFFWEB_AUDIO_MAX_SECONDS
MAX_CHANNELS = 2
MAX_SAMPLE_RATE = 192_000
# Encoders pad the end (LAME adds up to about 0.05 s); a file that declared an admitted
# length is allowed this much more decoded audio before it counts as a lie.
SLACK_SECONDS = 1.0
PEAK_POINTS = 800

# The allow-list: each file type riffweb takes, and the codecs it may hold. FFmpeg names
# decoders, not formats ("mp3float"); an MP4 holding FLAC or ALAC is not an m4a.
CODECS = {
    "mp3": frozenset({"mp3", "mp3float"}),
    "m4a": frozenset({"aac", "aac_fixed"}),
    "wav": frozenset({"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le"}),
}
FORMATS = frozenset(CODECS)
CONTENT_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav"}
CODEC_NAMES = {"mp3float": "mp3", "aac_fixed": "aac"}

# FFmpeg names containers by demuxer family ("mov,mp4,m4a,3gp,3g2,mj2"); musicians
# and the upstream contract speak of file types, so fold the family names.
_FORMAT_NAMES = {
    "mp3": "mp3",
    "wav": "wav",
    "mov": "m4a",
    "mp4": "m4a",
    "m4a": "m4a",
    "aac": "aac",
    "ogg": "ogg",
    "flac": "flac",
}


class AudioError(ValueError):
    """Bytes or a file that are not audio we take. The message is shown to musicians."""


@dataclass(frozen=True)
class Header:
    """What the container says about itself, before any decoding."""

    format: str  # a file type: mp3, m4a, wav, flac, ogg…
    codec: str  # the decoder FFmpeg picked: mp3float, aac, pcm_s16le, flac…
    channels: int
    sample_rate: int
    declared: float | None  # seconds, as the header states them (None: it does not say)


@dataclass(frozen=True)
class Checked:
    """An admitted file, fully decoded once: its real length and a waveform summary."""

    format: str
    duration: float  # counted from decoded samples
    sample_rate: int
    peaks: list[float]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # float32, shape (n, channels), nominally within [-1, 1]
    sample_rate: int
    format: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0

    @property
    def channels(self) -> int:
        return self.samples.shape[1]


def _length(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def too_long(max_seconds: float, seconds: float | None = None) -> str:
    if seconds is None:
        return f"This audio is longer than {_length(max_seconds)}, the limit. Trim it and try again."
    return (
        f"This audio is {_length(seconds)} long; the limit is {_length(max_seconds)}. "
        "Trim it and try again."
    )


def _open(source: str | Path | bytes):
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not source:
            raise AudioError(NOT_AUDIO)
        source = io.BytesIO(bytes(source))
    else:
        path = Path(source)
        if not path.is_file() or path.stat().st_size == 0:
            raise AudioError(NOT_AUDIO)
        source = str(path)
    try:
        return av.open(source, mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise AudioError(NOT_AUDIO) from exc


def _format_name(container) -> str:
    for name in container.format.name.split(","):
        if name in _FORMAT_NAMES:
            return _FORMAT_NAMES[name]
    return container.format.name.split(",")[0]


def _header(container) -> Header:
    if not container.streams.audio:
        raise AudioError(NOT_AUDIO)
    stream = container.streams.audio[0]
    context = stream.codec_context
    if container.duration is not None and container.duration > 0:
        declared = container.duration / av.time_base
    elif stream.duration is not None and stream.time_base:
        declared = float(stream.duration * stream.time_base)
    else:
        declared = None
    return Header(
        format=_format_name(container),
        codec=context.name,
        channels=context.channels,
        sample_rate=context.sample_rate,
        declared=declared,
    )


def _admit(header: Header, max_seconds: float, formats) -> None:
    """Refuse, before decoding, what is not on the allow-list or is declared too long."""
    if not header.sample_rate or not header.channels:
        raise AudioError(NOT_AUDIO)
    codec = CODEC_NAMES.get(header.codec, header.codec)
    if header.format not in formats:
        raise AudioError(f"This is {header.format} audio; {TAKES}.")
    if header.codec not in CODECS[header.format]:
        raise AudioError(f"This {header.format} file holds {codec} audio, which we do not take; {TAKES}.")
    if header.channels > MAX_CHANNELS:
        raise AudioError(f"This audio has {header.channels} channels; use a mono or stereo file.")
    if header.sample_rate > MAX_SAMPLE_RATE:
        raise AudioError(f"This audio's sample rate ({header.sample_rate} Hz) is too high; {TAKES} at 48 kHz.")
    if header.declared is not None and header.declared > max_seconds:
        raise AudioError(too_long(max_seconds, header.declared))


def inspect(source: str | Path | bytes) -> Header:
    """Read the container's header (type, codec, channels, declared length); decode nothing."""
    with _open(source) as container:
        return _header(container)


def _frames(source, max_seconds: float, formats) -> Iterator[tuple[Header, av.AudioFrame]]:
    """Yield (header, frame) for every decodable frame of an admitted source.

    Counts the seconds actually decoded and stops with the too-long refusal at the limit,
    whatever the header said. A file that breaks off mid-stream (an interrupted download)
    still yields the frames before the break; a file with no decodable frame is not audio.
    """
    with _open(source) as container:
        header = _header(container)
        _admit(header, max_seconds, formats)
        limit = max_seconds + SLACK_SECONDS
        seconds = 0.0
        try:
            for frame in container.decode(container.streams.audio[0]):
                if not frame.sample_rate or len(frame.layout.channels) > MAX_CHANNELS:
                    raise AudioError(NOT_AUDIO)
                seconds += frame.samples / frame.sample_rate
                if seconds > limit:
                    raise AudioError(too_long(max_seconds))
                yield header, frame
        except (av.FFmpegError, EOFError) as exc:
            if not seconds:
                raise AudioError(NOT_AUDIO) from exc
        if not seconds:
            raise AudioError(NOT_AUDIO)


class _PeakMeter:
    """Max-abs of the mono mix per block, for a waveform, in bounded memory.

    Blocks start one sample wide; whenever there are more than 8× the wanted points,
    neighbours merge and blocks double, so an hour costs what a minute does and the
    result keeps at least 4 blocks per point.
    """

    def __init__(self, points: int):
        self.points = points
        self.step = 1
        self.blocks = np.empty(0, np.float32)
        self.partial_max = np.float32(0.0)
        self.partial_n = 0  # samples in the block being filled

    def add(self, mono: np.ndarray) -> None:
        data = np.abs(mono)
        if self.partial_n:
            take = min(self.step - self.partial_n, len(data))
            if take:
                self.partial_max = max(self.partial_max, data[:take].max())
            self.partial_n += take
            data = data[take:]
            if self.partial_n < self.step:
                return
            self.blocks = np.append(self.blocks, self.partial_max)
            self.partial_n, self.partial_max = 0, np.float32(0.0)
        whole = len(data) // self.step * self.step
        if whole:
            self.blocks = np.concatenate([self.blocks, data[:whole].reshape(-1, self.step).max(axis=1)])
        if whole < len(data):
            self.partial_max, self.partial_n = data[whole:].max(), len(data) - whole
        while len(self.blocks) > 8 * self.points:
            self._coarsen()

    def _coarsen(self) -> None:
        blocks = self.blocks
        if len(blocks) % 2:  # the odd last block opens the partial block of the new size
            self.partial_max = max(self.partial_max, blocks[-1]) if self.partial_n else blocks[-1]
            self.partial_n += self.step
            blocks = blocks[:-1]
        self.blocks = blocks.reshape(-1, 2).max(axis=1)
        self.step *= 2

    def result(self) -> list[float]:
        blocks = self.blocks
        if self.partial_n:
            blocks = np.append(blocks, self.partial_max)
        return _bucket_maxima(blocks, self.points)


def _bucket_maxima(values: np.ndarray, count: int) -> list[float]:
    if len(values) == 0 or count <= 0:
        return []
    count = min(count, len(values))
    starts = np.linspace(0, len(values), count, endpoint=False).astype(np.int64)
    buckets = np.maximum.reduceat(values, starts)
    return [round(float(v), 3) for v in np.clip(buckets, 0.0, 1.0)]


def check(
    source: str | Path | bytes,
    *,
    max_seconds: float = MAX_SECONDS,
    formats=FORMATS,
    points: int = PEAK_POINTS,
) -> Checked:
    """The one gate for audio riffweb did not make: admit the header, then decode as a
    stream (counted, capped) into its real length and waveform peaks.

    Raises AudioError with a message for musicians. Memory stays flat whatever the file
    holds: one frame at a time, plus the peak blocks.
    """
    meter = _PeakMeter(points)
    seconds = 0.0
    rate = 0
    # 64 frames as decoded, converted and metered together: one conversion per batch instead
    # of one per frame (a 3-minute MP3 has ~7,000); larger batches make the meter's first
    # blocks too fine and cost more than they save.
    pending: list[np.ndarray] = []
    layout = None

    def flush():
        planar, channels = layout
        data = np.concatenate(pending, axis=1)
        samples = _to_float32(data.T if planar else data.reshape(-1, channels))
        meter.add(samples.mean(axis=1) if channels > 1 else samples[:, 0])
        pending.clear()

    for header, frame in _frames(source, max_seconds, formats):
        shape = (frame.format.is_planar, len(frame.layout.channels))
        if pending and (shape != layout or len(pending) == 64):
            flush()
        layout = shape
        pending.append(frame.to_ndarray())
        seconds += frame.samples / frame.sample_rate
        rate = rate or frame.sample_rate  # HE-AAC decodes at twice the rate its header states
    if pending:
        flush()
    return Checked(format=header.format, duration=round(seconds, 6), sample_rate=rate, peaks=meter.result())


# An MPEG audio frame decodes to exactly the samples its header states (1,152 or 576), so an
# MP3's real length can be counted from its frame headers without decoding: a tenth of the CPU
# of check(), which storing a burst of finished songs needs (benchmarks/pipeline_bench.py).
MP3_MAX_BITRATE = 320_000  # the highest MPEG-1 Layer III rate; "free format" streams are refused
PROOF_FRAMES = 4  # the first frames are decoded too: sync words alone do not prove audio


def check_frames(source: str | Path | bytes, *, max_seconds: float = MAX_SECONDS, formats=FORMATS) -> Checked:
    """check() for an MP3 by its frame headers, without peaks: admit the header, count every
    frame's stated length (capped as check() caps decoded seconds), refuse frames that carry
    more than the format's highest bitrate, and decode the first few frames as proof. Any other
    format goes through check()."""
    with _open(source) as container:
        header = _header(container)
        _admit(header, max_seconds, formats)
        if header.format != "mp3":
            return check(source, max_seconds=max_seconds, formats=formats)
        stream = container.streams.audio[0]
        time_base, limit = float(stream.time_base), max_seconds + SLACK_SECONDS
        ticks = frame_bytes = proven = 0
        try:
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                ticks += packet.duration or 0
                frame_bytes += packet.size
                if ticks * time_base > limit:
                    raise AudioError(too_long(max_seconds))
                if proven < PROOF_FRAMES:
                    for frame in stream.codec_context.decode(packet):
                        if not frame.sample_rate or len(frame.layout.channels) > MAX_CHANNELS:
                            raise AudioError(NOT_AUDIO)
                        proven += 1
        except (av.FFmpegError, EOFError) as exc:
            if not proven:
                raise AudioError(NOT_AUDIO) from exc
    seconds = ticks * time_base
    if not proven or not seconds or frame_bytes * 8 > seconds * MP3_MAX_BITRATE * 1.02:
        raise AudioError(NOT_AUDIO)
    return Checked(format="mp3", duration=round(seconds, 6), sample_rate=header.sample_rate, peaks=[])


def probe(source: str | Path | bytes, max_seconds: float = MAX_SECONDS) -> tuple[float, str]:
    """Return (duration in seconds, format), counted from decoded samples.

    Container headers lie (an mp3 without a Xing header has only an estimated
    length, a truncated file keeps its original length), so the duration is
    counted from decoded samples; that also proves the file really is audio.
    """
    checked = check(source, max_seconds=max_seconds)
    return checked.duration, checked.format


def decode(
    source: str | Path | bytes, *, max_seconds: float = MAX_SECONDS, formats=FORMATS
) -> Decoded:
    """Decode a path or bytes into float32 samples shaped (n, channels), for callers that
    need the signal (the engine's transforms); admitted and capped like `check`."""
    raw: list[np.ndarray] = []  # frames as decoded, converted together at the end
    layout = None
    rate = 0
    fmt = ""
    for header, frame in _frames(source, max_seconds, formats):
        if not fmt:
            fmt, rate = header.format, frame.sample_rate
        shape = (frame.format.is_planar, len(frame.layout.channels))
        if layout is None:
            layout = shape
        elif layout and shape != layout:  # the layout changed mid-stream: convert frame by frame
            planar, channels = layout
            raw = [_to_float32(a.T if planar else a.reshape(-1, channels)) for a in raw]
            layout = False
        raw.append(frame.to_ndarray() if layout else _frame_to_array(frame))
    if not raw:
        raise AudioError(NOT_AUDIO)
    if layout:
        planar, channels = layout
        # One concatenation and one conversion instead of one per frame (a 3-minute
        # MP3 has about 7,000 frames): half the cost of a decode, all of it under the GIL.
        data = np.concatenate(raw, axis=1)
        samples = _to_float32(data.T if planar else data.reshape(-1, channels))
    else:
        samples = np.concatenate(raw, axis=0)
    if len(samples) == 0:
        raise AudioError(NOT_AUDIO)
    return Decoded(samples=samples, sample_rate=rate, format=fmt)


def _to_float32(data: np.ndarray) -> np.ndarray:
    kind = data.dtype
    if kind == np.int16:
        return data.astype(np.float32) / np.float32(32768.0)
    if kind == np.int32:
        return data.astype(np.float32) / np.float32(2147483648.0)
    if kind == np.uint8:
        return (data.astype(np.float32) - np.float32(128.0)) / np.float32(128.0)
    return data.astype(np.float32, copy=False)


def _frame_to_array(frame) -> np.ndarray:
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        data = data.T  # (channels, n) -> (n, channels)
    else:
        data = data.reshape(-1, channels)
    kind = data.dtype
    if kind == np.int16:
        return (data.astype(np.float32) / 32768.0).reshape(-1, channels)
    if kind == np.int32:
        return (data.astype(np.float32) / 2147483648.0).reshape(-1, channels)
    if kind == np.uint8:
        return ((data.astype(np.float32) - 128.0) / 128.0).reshape(-1, channels)
    return data.astype(np.float32, copy=False).reshape(-1, channels)


def peaks(samples: np.ndarray, count: int = PEAK_POINTS) -> list[float]:
    """Max-abs of the mono mix per bucket, 0–1 rounded to 3 decimals, for a waveform."""
    samples = np.asarray(samples, dtype=np.float32)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    return _bucket_maxima(np.abs(mono), count)


BLOCK = 1 << 18  # frames converted at a time: keeps float temporaries small


def _stereo_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit interleaved stereo, converted in blocks so a long song needs no
    full-length float temporaries."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[:, None]
    out = np.empty((len(samples), 2), dtype=np.int16)
    for start in range(0, len(samples), BLOCK):
        block = samples[start : start + BLOCK]
        if block.shape[1] == 1:
            block = np.repeat(block, 2, axis=1)
        block = np.clip(block[:, :2], -1.0, 1.0) * np.float32(32767.0)
        np.rint(block, out=block)
        out[start : start + BLOCK] = block
    return out


def encode_mp3(samples: np.ndarray, sample_rate: int, bitrate: int = 192) -> bytes:
    """Encode to stereo constant-bitrate MP3.

    LAME quality 7 is its fast path; at 192 kbps the difference to the slow
    psychoacoustic search is inaudible on our material and it is several times faster.
    """
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(2)
    encoder.set_quality(7)
    chunks = [
        bytes(encoder.encode(_stereo_int16(samples[i : i + BLOCK]).tobytes()))
        for i in range(0, len(samples), BLOCK)
    ]
    chunks.append(bytes(encoder.flush()))
    return b"".join(chunks)


def encode_preview(source: str | Path | bytes, *, bitrate: int = 96, max_seconds: float = MAX_SECONDS) -> bytes:
    """A lower-bitrate MP3 of an admitted file, encoded as it decodes (memory stays flat):
    what a listen-only guest hears instead of the master."""
    encoder = None
    chunks = []
    for _header, frame in _frames(source, max_seconds, FORMATS):
        if encoder is None:
            encoder = lameenc.Encoder()
            encoder.set_bit_rate(bitrate)
            encoder.set_in_sample_rate(frame.sample_rate)
            encoder.set_channels(2)
            encoder.set_quality(7)
        chunks.append(bytes(encoder.encode(_stereo_int16(_frame_to_array(frame)).tobytes())))
    chunks.append(bytes(encoder.flush()))
    return b"".join(chunks)


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Encode to 16-bit PCM WAV (stereo)."""
    pcm = _stereo_int16(samples)
    data = pcm.tobytes()
    channels, width = 2, 2
    header = b"".join(
        [
            b"RIFF",
            (36 + len(data)).to_bytes(4, "little"),
            b"WAVEfmt ",
            (16).to_bytes(4, "little"),
            (1).to_bytes(2, "little"),  # PCM
            channels.to_bytes(2, "little"),
            int(sample_rate).to_bytes(4, "little"),
            (sample_rate * channels * width).to_bytes(4, "little"),
            (channels * width).to_bytes(2, "little"),
            (8 * width).to_bytes(2, "little"),
            b"data",
            len(data).to_bytes(4, "little"),
        ]
    )
    return header + data
