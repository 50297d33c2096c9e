"""Timed lyrics from the engine in both dialects, kept on the song when it is done; an engine that
leaves them out, and shapes that do not hold together, leave the song done without them."""

import math
import time

import pytest

from riffweb.studio.models import Song, Transform
from riffweb.upstream import client, tracker
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request

LYRICS = "[Verse]\nCity lights are calling\n[Chorus]\nNeon rain keeps falling"


def pump_until_done(transform, seconds=40.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tracker.run_pump(seconds=0.2)
        if all(s.is_finished for s in transform.songs.all()):
            return list(transform.songs.order_by("variant"))
    raise AssertionError([(s.variant, s.status) for s in transform.songs.all()])


def make(project, owner, dialect):
    if dialect == "useapi":
        return make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}],
                            dialect="useapi", model="FUZZ-0.8", lyrics=LYRICS)
    return make_request(project, owner, lyrics=LYRICS)


@pytest.mark.parametrize("dialect", ["riffusion", "useapi"])
@pytest.mark.parametrize("shape", ["lines", "words"])
def test_a_done_song_keeps_when_each_line_is_sung(upstream_at, project, owner, db, dialect, shape):
    with running_engine(render_delay=0.3, timed_lyrics=shape) as engine:
        upstream_at(engine.url, dialect=dialect)
        transform = make(project, owner, dialect)
        assert submit_transform(transform.pk) == "submitted"
        songs = pump_until_done(transform)
    for song in songs:
        assert song.status == Song.Status.DONE
        texts = [line["text"] for line in song.timed_lyrics]  # a short song sings its chorus again
        assert texts[:2] == ["City lights are calling", "Neon rain keeps falling"]
        assert set(texts) == {"City lights are calling", "Neon rain keeps falling"}
        starts = [line["start"] for line in song.timed_lyrics]
        assert starts == sorted(starts) and starts[0] > 0
        assert all(line["start"] < line["end"] <= song.duration + 0.01 for line in song.timed_lyrics)


@pytest.mark.parametrize("dialect", ["riffusion", "useapi"])
def test_an_engine_without_timed_lyrics_leaves_the_song_done_without_them(upstream_at, project, owner, db, dialect):
    with running_engine(render_delay=0.3, timed_lyrics="none") as engine:
        upstream_at(engine.url, dialect=dialect)
        transform = make(project, owner, dialect)
        submit_transform(transform.pk)
        songs = pump_until_done(transform)
    assert [(s.status, s.timed_lyrics) for s in songs] == [(Song.Status.DONE, [])] * 2


GOOD = [{"text": "One", "start": 1.0, "end": 2.0}, {"text": "Two", "start": 2.5, "end": 4.0}]


@pytest.mark.parametrize("listing", [
    [{"text": "Two", "start": 2.5, "end": 4.0}, {"text": "One", "start": 1.0, "end": 2.0}],  # not in order
    [{"text": "One", "start": "soon", "end": 2.0}],  # not a number
    [{"text": "One", "start": math.nan, "end": 2.0}],
    [{"text": "One", "start": 1.0}],  # no end
    [{"text": "One", "start": 3.0, "end": 2.0}],  # ends before it starts
    [{"text": "One", "start": -1.0, "end": 2.0}],
    [{"text": "One", "start": 50.0, "end": 52.0}],  # after the song ends
    ["One", "Two"],
    [{"text": "x", "start": n, "end": n + 0.5} for n in range(client.TIMED_MAX_LINES + 1)],  # too many
    "One\nTwo",
])
def test_timed_lyrics_that_do_not_hold_together_are_ignored(listing):
    assert client.timed_lyrics({"id": "t", "lyrics_timestamped": listing}, 30.0) == []


def test_timed_lyrics_are_read_from_lines_or_words_and_kept_within_the_song():
    assert client.timed_lyrics({"lyrics_timestamped": GOOD}, 30.0) == GOOD
    named = [{"line": "One", "start_s": 1, "end_s": 2}, {"text": "Two", "start_time": 2.5, "end_time": 40}]
    assert client.timed_lyrics({"aligned_lyrics": named}, 30.0) == [
        {"text": "One", "start": 1.0, "end": 2.0}, {"text": "Two", "start": 2.5, "end": 30.0}]
    words = [{"word": "Hello ", "start_s": 1, "end_s": 1.5}, {"word": "there\n", "start_s": 1.5, "end_s": 2},
             {"word": "Bye", "start_s": 3, "end_s": 4}]
    assert client.timed_lyrics({"lyrics_timestamped": words}, None) == [
        {"text": "Hello there", "start": 1.0, "end": 2.0}, {"text": "Bye", "start": 3.0, "end": 4.0}]
    nested = [{"words": [{"word": "Hi", "start": 1, "end": 1.4}, {"word": "you", "start": 1.4, "end": 2}]}]
    assert client.timed_lyrics({"lyrics_timestamped": nested}, 30.0) == [{"text": "Hi you", "start": 1.0, "end": 2.0}]
    long = [{"text": "la " * 400, "start": 1, "end": 2}]
    assert len(client.timed_lyrics({"lyrics_timestamped": long}, 30.0)[0]["text"]) == client.TIMED_MAX_TEXT
    assert client.timed_lyrics({"id": "t"}, 30.0) == []
