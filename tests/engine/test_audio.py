"""riffweb.audio: the decode/probe/encode helpers the engine and the studio share."""

import io
import os

import av
import numpy as np
import pytest

from riffweb import audio

SR = 44100


def tone(seconds=1.0, freq=440.0, channels=2):
    t = np.arange(int(SR * seconds)) / SR
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def m4a_bytes(samples):
    buf = io.BytesIO()
    with av.open(buf, "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=SR)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout="stereo")
        frame.sample_rate = SR
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def test_wav_round_trip_is_exact_to_16_bits():
    samples = tone()
    decoded = audio.decode(audio.encode_wav(samples, SR))
    assert decoded.format == "wav"
    assert decoded.sample_rate == SR
    assert decoded.samples.shape == samples.shape
    assert np.abs(decoded.samples - samples).max() <= 1 / 32767


def test_mp3_decodes_to_the_same_tone_and_length():
    decoded = audio.decode(audio.encode_mp3(tone(2.0), SR))
    assert decoded.format == "mp3"
    assert decoded.samples.shape[1] == 2
    assert 2.0 <= decoded.duration < 2.1  # LAME adds encoder delay and padding
    assert audio.peaks(decoded.samples, 10)[5] == pytest.approx(0.5, abs=0.03)


def test_m4a_decodes(tmp_path):
    path = tmp_path / "tone.m4a"
    path.write_bytes(m4a_bytes(tone(1.5)))
    decoded = audio.decode(path)
    assert decoded.format == "m4a"
    assert decoded.duration == pytest.approx(1.5, abs=0.1)
    duration, fmt = audio.probe(path)
    assert fmt == "m4a" and duration == pytest.approx(1.5, abs=0.1)


def test_mono_input_is_encoded_as_stereo():
    decoded = audio.decode(audio.encode_wav(tone(channels=1)[:, 0], SR))
    assert decoded.channels == 2


@pytest.mark.parametrize(
    "data",
    [b"", b"This is a text file, not a song.\n" * 50, os.urandom(4000), b"RIFF\x00\x00\x00\x00WAVEfmt "],
    ids=["empty", "text", "random-bytes", "truncated-wav-header"],
)
def test_it_rejects_bytes_that_are_not_audio(data):
    with pytest.raises(audio.AudioError, match="not audio we can read"):
        audio.decode(data)
    with pytest.raises(audio.AudioError):
        audio.probe(data)


def test_it_rejects_a_renamed_text_file_and_a_missing_path(tmp_path):
    fake = tmp_path / "song.mp3"
    fake.write_text("definitely not an mp3")
    with pytest.raises(audio.AudioError):
        audio.probe(fake)
    with pytest.raises(audio.AudioError):
        audio.decode(tmp_path / "missing.wav")


def test_probe_counts_the_decoded_duration(tmp_path):
    path = tmp_path / "tone.wav"
    path.write_bytes(audio.encode_wav(tone(3.0), SR))
    assert audio.probe(path) == (pytest.approx(3.0), "wav")


def test_peaks_are_bucketed_maxima_of_the_mono_mix():
    samples = np.zeros((1000, 2), np.float32)
    samples[100, 0] = 0.8  # the mono mix halves a one-sided peak
    samples[900] = -1.0
    points = audio.peaks(samples, count=10)
    assert len(points) == 10
    assert points[1] == 0.4 and points[9] == 1.0 and points[5] == 0.0
    assert audio.peaks(np.zeros((0, 2), np.float32)) == []
