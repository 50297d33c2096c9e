"""Audio decompression bombs, built with PyAV on the spot: small files that decode to hours.

Shared by the upload tests and benchmarks/bomb_bench.py. Each builder encodes a little
silence and repeats it (muxing the same packet again or concatenating MP3 frames), so an
hour of audio costs a fraction of a second to build and well under the upload cap.
"""

import io
import struct

import av
import numpy as np

RATE = 44100


def _silence(rate: int, samples: int) -> av.AudioFrame:
    """Stereo s16 silence; PyAV converts it to whatever the encoder takes."""
    frame = av.AudioFrame.from_ndarray(np.zeros((1, samples * 2), np.int16), format="s16", layout="stereo")
    frame.sample_rate = rate
    return frame


def _repeated(container_format: str, codec: str, seconds: float, rate: int = RATE) -> bytes:
    """`seconds` of stereo silence: one packet encoded, then muxed again and again."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "stereo"
        size = stream.codec_context.frame_size or 4608
        packets = []
        pts = 0
        while not packets:
            frame = _silence(rate, size)
            frame.pts = pts
            pts += size
            packets = list(stream.encode(frame))
        packet = packets[0]
        step = packet.duration or size
        for n in range(int(seconds * rate / step)):
            packet.pts = packet.dts = n * step
            packet.duration = step
            container.mux(packet)
    return buffer.getvalue()


def flac_in_mp4(seconds: float = 3600) -> bytes:
    """An "m4a" that holds FLAC: about 0.2 MB per hour."""
    return _repeated("mp4", "flac", seconds)


def long_flac(seconds: float = 3600) -> bytes:
    return _repeated("flac", "flac", seconds)


def long_m4a(seconds: float = 3600) -> bytes:
    """A real m4a (AAC in MP4) whose header truthfully declares its length."""
    return _repeated("ipod", "aac", seconds)


def _mp3(seconds: float, rate: int, bitrate: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "stereo"
        stream.bit_rate = bitrate
        size = 1152
        for n in range(int(seconds * rate / size)):
            frame = _silence(rate, size)
            frame.pts = n * size
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def lying_mp3(declared: float = 5.0, seconds: float = 1800, rate: int = 48000) -> bytes:
    """An MP3 whose Info header says `declared` seconds, followed by `seconds` more of frames.

    The Info tag's byte count is patched to the whole file, so FFmpeg trusts its frame count
    (it ignores a tag whose byte count does not match the file) and declares `declared`.
    """
    head = _mp3(declared, rate, 32000)
    with av.open(io.BytesIO(_mp3(10.0, rate, 32000))) as source:  # its frames, without tags
        chunk = b"".join(bytes(packet) for packet in source.demux(audio=0) if packet.size)
    body = bytearray(head + chunk * int(seconds / 10))
    tag = body.index(b"Info")
    frames, declared_bytes = struct.unpack(">II", body[tag + 8 : tag + 16])
    body[tag + 12 : tag + 16] = struct.pack(">I", len(body) - len(head) + declared_bytes)
    return bytes(body)
