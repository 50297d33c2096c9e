"""riffweb.audio: the check/decode/encode helpers the engine and the studio share."""

import io
import os
import re

import av
import numpy as np
import pytest

from riffweb import audio
from riffweb.engine.server import EngineConfig, EngineServer
from tests import audio_bombs
from tests.engine.conftest import post

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


def test_check_gives_the_real_length_and_the_same_peaks_as_a_whole_decode():
    ramp = np.linspace(0, 1, SR * 37, dtype=np.float32)[:, None]
    samples = tone(37.0, freq=3.0) * ramp  # slow waves, rising: every bucket differs
    data = audio.encode_wav(samples, SR)
    checked = audio.check(data)
    assert (checked.format, checked.sample_rate, checked.content_type) == ("wav", SR, "audio/wav")
    assert checked.duration == pytest.approx(37.0)
    whole = audio.peaks(audio.decode(data).samples)
    assert len(checked.peaks) == len(whole) == 800
    # A streamed bucket's edges may sit up to one block (a quarter of a bucket) off.
    difference = np.abs(np.array(checked.peaks) - np.array(whole))
    assert difference.max() <= 0.05 and difference.mean() < 0.005


def test_check_of_a_very_short_file_has_one_peak_per_sample():
    data = audio.encode_wav(tone(0.01), SR)
    assert audio.check(data).peaks == audio.peaks(audio.decode(data).samples)


def test_the_header_is_read_without_decoding():
    header = audio.inspect(audio_bombs.flac_in_mp4(3600))
    assert (header.format, header.codec, header.channels) == ("m4a", "flac", 2)
    assert header.declared == pytest.approx(3600, abs=1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: audio_bombs.flac_in_mp4(60), "This m4a file holds flac audio, which we do not take"),
        (lambda: audio_bombs.long_flac(60), "This is flac audio; use an mp3, m4a (AAC) or wav file."),
        (lambda: audio_bombs.long_m4a(700), "This audio is 12 minutes long; the limit is 10 minutes."),
    ],
    ids=["flac-in-mp4", "flac", "too-long"],
)
def test_what_the_allow_list_refuses_is_refused_by_check_and_decode(build, message):
    data = build()
    for gate in (audio.check, audio.check_frames, audio.decode, audio.probe):
        with pytest.raises(audio.AudioError, match=re.escape(message)):
            gate(data)


def test_a_header_that_lies_about_its_length_is_stopped_at_the_limit():
    data = audio_bombs.lying_mp3(declared=5, seconds=120)
    assert audio.inspect(data).declared == pytest.approx(5, abs=0.1)
    for gate in (audio.check, audio.check_frames, audio.decode):
        with pytest.raises(audio.AudioError, match="longer than 60 seconds, the limit"):
            gate(data, max_seconds=60)
    assert audio.check(data, max_seconds=200).duration > 120
    # Frame headers count the encoder's delay frame that decoding trims: within two frames.
    assert audio.check_frames(data, max_seconds=200).duration == pytest.approx(
        audio.check(data, max_seconds=200).duration, abs=0.06)


def test_an_mp3_checked_by_its_frame_headers_has_the_decoded_length_and_no_peaks():
    data = audio.encode_mp3(tone(3.0), SR)
    framed, decoded = audio.check_frames(data), audio.check(data)
    assert framed.duration == pytest.approx(decoded.duration, abs=0.06)
    assert framed.format == "mp3" and framed.sample_rate == SR
    assert framed.peaks == [] and len(decoded.peaks) > 100
    wav = audio.check_frames(audio.encode_wav(tone(1.0), SR))  # other formats: the full check
    assert wav.format == "wav" and len(wav.peaks) > 100


@pytest.mark.parametrize("damage", ["junk-after-a-few-frames", "junk-then-a-frame-header", "cut-short"])
def test_frame_headers_over_junk_are_not_audio_and_a_cut_file_counts_what_it_holds(damage):
    data = audio.encode_mp3(tone(3.0), SR)
    noise = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    if damage == "junk-after-a-few-frames":  # a few real frames then 300 kB no frame holds
        with pytest.raises(audio.AudioError, match="not audio"):
            audio.check_frames(data[:3000] + noise)
    elif damage == "junk-then-a-frame-header":
        with pytest.raises(audio.AudioError, match="not audio"):
            audio.check_frames(noise + data[:600])
    else:
        assert audio.check_frames(data[: len(data) // 2]).duration == pytest.approx(1.5, abs=0.1)


def test_more_than_two_channels_are_refused():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=SR, layout="5.1")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 6 * 1024), np.int16), format="s16", layout="5.1")
        frame.sample_rate = SR
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(audio.AudioError, match="This audio has 6 channels; use a mono or stereo file."):
        audio.check(buffer.getvalue())


def test_the_engine_refuses_a_bomb_upload(engine, trusted_dir):
    (trusted_dir / "bomb.m4a").write_bytes(audio_bombs.long_m4a(3600))
    answer = post(engine, "/riffusion/upload", {"url": (trusted_dir / "bomb.m4a").as_uri()})
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "url: not audio we can read or accept. This audio is 60 minutes long; the limit is 10 minutes. Trim it and try again."
    )


def test_the_engine_takes_its_limit_from_its_config(trusted_dir):
    (trusted_dir / "ninety.m4a").write_bytes(audio_bombs.long_m4a(90))
    config = EngineConfig(render_delay=0.0, max_audio_seconds=60, trusted_url_prefixes=(trusted_dir.as_uri() + "/",))
    with EngineServer(config).start() as server:
        answer = post(server, "/riffusion/upload", {"url": (trusted_dir / "ninety.m4a").as_uri()})
    assert answer.status_code == 400 and "90 seconds long; the limit is 60 seconds" in answer.json()["error"]
