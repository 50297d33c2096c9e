"""What the service makes besides the finished audio, end to end against the local engine: a
preview while a song is made (A: generations[].audio_url before success; B: "streaming"), the
style, title and lyrics it used and wrote, and its cover art, checked before it is kept."""

import tempfile
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from riffweb import audio
from riffweb.studio.models import Song, Transform
from riffweb.upstream import tracker
from riffweb.upstream.client import parse_track
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request

DIALECTS = ["riffusion", "useapi"]


def request_for(dialect, project, owner, **fields):
    if dialect == "useapi":
        fields = {"mode": Transform.Mode.COMPOSE, "prompts": [{"text": "piano ballad"}], "dialect": "useapi",
                  "model": "FUZZ-0.8", "tags": "", **fields}
    return make_request(project, owner, **fields)


def pump_until(condition, seconds=40.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tracker.run_pump(seconds=0.2)
        if condition():
            return
    raise AssertionError([(s.pk, s.status, s.progress, s.error_detail[:200]) for s in Song.objects.all()])


def settled(transform) -> bool:
    """Every song ended, and every stored one has its cover art and waveform (or was refused them)."""
    return all(s.is_finished and not s.finishing for s in transform.songs.all())


def seconds_of(fieldfile) -> float:
    with tempfile.NamedTemporaryFile(suffix=Path(fieldfile.name).suffix) as copy, fieldfile.open("rb") as stored:
        copy.write(stored.read())
        copy.flush()
        return audio.probe(copy.name)[0]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_card_plays_the_part_made_so_far_then_the_stored_song_with_its_cover(
    dialect, upstream_at, project, owner, owner_client, db
):
    with running_engine(render_delay=8.0, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect=dialect, RIFFWEB_PREVIEW_REFRESH=1.0)
        transform = request_for(dialect, project, owner)
        assert submit_transform(transform.pk) == "submitted"
        pump_until(lambda: all(s.partial for s in transform.songs.all()))
        song = transform.songs.get(variant=0)
        assert song.status == Song.Status.RUNNING and song.progress < 100
        so_far = seconds_of(song.partial)  # the first third of the song, at least 5 s
        preview_name = song.partial.name
        card = owner_client.get(reverse("studio:project_detail", args=[project.pk])).content.decode()
        assert f'id="song-preview-{song.pk}" hx-preserve' in card and "Listen while it is being made" in card
        answer = owner_client.get(reverse("studio:song_partial", args=[song.pk]))
        assert answer.status_code == 200 and answer["Content-Type"].startswith("audio/")
        assert engine.url not in card  # the browser is never handed the service's address

        pump_until(lambda: settled(transform))
        song.refresh_from_db()
        assert song.status == Song.Status.DONE and not song.partial and not default_storage.exists(preview_name)
        assert 4.9 <= so_far < seconds_of(song.audio) - 2
        # At most one preview copy per song per refresh interval (1 s), for at most the 5 s left.
        assert 2 <= engine.stats()["counts"]["preview"] <= 2 * 6
        assert engine.stats()["counts"]["image"] == 2
        with song.cover.open("rb") as stored, Image.open(stored) as cover:
            assert cover.format == "JPEG" and cover.size == (256, 256)
        assert song.api_style == ("synthwave" if dialect == "riffusion" else "piano ballad")
        assert owner_client.get(reverse("studio:song_partial", args=[song.pk])).status_code == 404
        page = owner_client.get(song.get_absolute_url()).content.decode()
        assert reverse("studio:song_cover", args=[song.pk]) in page and "piano ballad" in page or "synthwave" in page
        assert owner_client.get(reverse("studio:song_cover", args=[song.pk]))["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_without_previews_or_images_songs_finish_with_neither(dialect, upstream_at, project, owner, db):
    with running_engine(render_delay=2.0, song_seconds=5.0, previews=False, images=False) as engine:
        upstream_at(engine.url, dialect=dialect, RIFFWEB_PREVIEW_REFRESH=0.5)
        transform = request_for(dialect, project, owner)
        submit_transform(transform.pk)
        seen_partial = []
        pump_until(lambda: seen_partial.extend(s.partial.name for s in transform.songs.all() if s.partial)
                   or settled(transform))
        counts = engine.stats()["counts"]
    assert seen_partial == [] and "preview" not in counts and "image" not in counts
    for song in transform.songs.all():
        assert song.status == Song.Status.DONE and song.audio and not song.cover and not song.upstream_image_url


@pytest.mark.parametrize("fault", ["bomb", "not_image"])
def test_a_refused_cover_never_fails_the_song(fault, upstream_at, project, owner, db, caplog):
    with running_engine(render_delay=0.3, song_seconds=5.0, image_fault=fault) as engine:
        upstream_at(engine.url)
        transform = make_request(project, owner)
        submit_transform(transform.pk)
        pump_until(lambda: settled(transform))
    for song in transform.songs.all():
        assert song.status == Song.Status.DONE and song.audio and not song.cover
    assert "cover art refused" in caplog.text
    assert ("more than 16777216 pixels" if fault == "bomb" else "not an image we can read") in caplog.text


def test_a_cover_over_the_byte_cap_is_not_fetched_whole(upstream_at, project, owner, db, caplog):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url, RIFFWEB_COVER_MAX_BYTES=1000)
        transform = make_request(project, owner)
        submit_transform(transform.pk)
        pump_until(lambda: settled(transform))
    assert all(s.status == Song.Status.DONE and not s.cover for s in transform.songs.all())
    assert "cover art refused" in caplog.text


def test_the_song_goes_by_the_services_title_and_lyrics_and_the_request_keeps_what_was_typed(
    upstream_at, project, owner, owner_client, db
):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url)
        transform = make_request(project, owner, mode=Transform.Mode.INSPIRATION, title="", lyrics="", tags="",
                                 topic="a rainy night drive")
        submit_transform(transform.pk)
        pump_until(lambda: all(s.is_finished for s in transform.songs.all()))
    song = transform.songs.get(variant=0)
    assert song.api_title and song.title == song.api_title and song.api_lyrics == song.lyrics
    assert song.api_style and song.retitled is False  # nothing was typed: no "you typed" note
    page = owner_client.get(song.get_absolute_url()).content.decode()
    assert "Lyrics, as the music service wrote them" in page and song.api_style in page


def test_dialect_b_instrumental_lyrics_are_kept_as_none(upstream_at, project, owner, db):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        transform = request_for("useapi", project, owner, lyrics="", instrumental=True)
        submit_transform(transform.pk)
        pump_until(lambda: all(s.is_finished for s in transform.songs.all()))
    assert [(s.api_lyrics, s.lyrics) for s in transform.songs.all()] == [("", "")] * 2


def test_cover_art_given_as_image_id_is_used_only_when_it_is_a_link():
    with_link = parse_track({"id": "s1", "status": "completed", "image_id": "https://img.example/s1.jpeg"})
    bare = parse_track({"id": "s2", "status": "completed", "image_id": "c0ffee"})
    both = parse_track({"id": "s3", "status": "completed", "image_url": "https://a/1.jpeg", "image_id": "x"})
    assert (with_link.image_url, bare.image_url, both.image_url) == ("https://img.example/s1.jpeg", "", "https://a/1.jpeg")


def test_audio_before_done_is_a_preview_and_never_the_final_audio():
    streaming = parse_track({"id": "s", "status": "streaming", "download_url": "https://x/s.m4a", "sound": "jazz"})
    feed = parse_track({"id": "t", "status": "process", "generations": [{"audio_url": "https://x/t.mp3"}],
                        "tag": "rock"})
    assert (streaming.state, streaming.preview_url, streaming.style) == ("running", "https://x/s.m4a", "jazz")
    assert (feed.state, feed.preview_url, feed.style) == ("running", "https://x/t.mp3", "rock")
    done = parse_track({"id": "t", "status": "success", "audio_url": "https://x/t.mp3"})
    assert done.preview_url == "" and done.audio_url == "https://x/t.mp3"
