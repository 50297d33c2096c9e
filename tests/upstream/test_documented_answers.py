"""riffweb against each answer the API documentation allows and the engine can be set to give:
one-song jobs, busy accounts, 596, upload status words, a feed that takes fewer ids."""

import time

import pytest
from django.core.files.base import ContentFile

from riffweb.studio.models import Failure, Song, Transform, Upload
from riffweb.upstream import tracker
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.submit import submit_transform
from riffweb.upstream.uploads import send_upload
from tests.cluster import running_engine
from tests.conftest import make_request, tone_wav


def compose(project, owner, **fields):
    return make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}],
                        dialect="useapi", model="FUZZ-0.8", **fields)


def pump_until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tracker.run_pump(seconds=0.2)
        if condition():
            return
    raise AssertionError([(s.pk, s.variant, s.status, s.failure) for s in Song.objects.all()])


def test_a_dialect_b_job_with_one_song_ends_the_other_card_with_a_retry(upstream_at, project, owner, db):
    with running_engine(render_delay=0.3, song_seconds=5.0, songs_per_job=1) as engine:
        upstream_at(engine.url, dialect="useapi")
        transform = compose(project, owner)
        assert submit_transform(transform.pk) == "submitted"
        pump_until(lambda: all(s.is_finished for s in transform.songs.all()))
        first, second = transform.songs.order_by("variant")
        assert first.status == Song.Status.DONE and first.audio
        assert (second.status, second.failure) == (Song.Status.FAILED, Failure.FEWER)
        assert second.can_retry and "fewer songs than asked" in second.card_message()
        # Retrying it starts one more job, which fills it.
        assert second.retry() and submit_transform(transform.pk) == "submitted"
        pump_until(lambda: all(s.is_finished for s in transform.songs.all()))
    assert [s.status for s in transform.songs.order_by("variant")] == [Song.Status.DONE] * 2


def test_a_busy_account_tells_the_waiting_cards_how_many_jobs_it_runs(upstream_at, project, owner, db):
    with running_engine(render_delay=30, song_seconds=5.0, max_jobs=1) as engine:
        upstream_at(engine.url, dialect="useapi")
        assert submit_transform(compose(project, owner, title="First").pk) == "submitted"
        waiting = compose(project, owner, title="Second")
        assert submit_transform(waiting.pk) == "retry"
    for song in waiting.songs.all():
        assert song.status == Song.Status.PENDING
        assert song.card_message() == "The music service is busy with 1 job; this one will start when one finishes."
    assert Transform.objects.get(pk=waiting.pk).status == Transform.Status.QUEUED


def test_the_providers_own_429_says_the_request_starts_when_there_is_room(upstream_at, project, owner, db):
    with running_engine(render_delay=30, fault_rate_429=1.0) as engine:
        upstream_at(engine.url)
        waiting = make_request(project, owner)
        assert submit_transform(waiting.pk) == "retry"
    assert {s.card_message() for s in waiting.songs.all()} == {
        "The music service is busy; this request will start as soon as it has room."
    }


def test_596_tells_musicians_the_account_needs_attention(upstream_at, project, owner, db):
    with running_engine(render_delay=0.3, fault_rate_596=1.0) as engine:
        upstream_at(engine.url)
        transform = make_request(project, owner)
        assert submit_transform(transform.pk) == "failed"
    for song in transform.songs.all():
        assert song.failure == Failure.ACCOUNT
        assert song.card_message().startswith("The music service account needs attention")
    assert "596" in UpstreamState.get().attention


@pytest.mark.parametrize("word", ["processed", "ready", "complete"])
def test_an_upload_is_usable_once_its_status_is_anything_but_pending(upstream_at, project, owner, db, word):
    with running_engine(render_delay=0.4, upload_ready_status=word) as engine:
        upstream_at(engine.url, dialect="useapi")
        upload = Upload(project=project, created_by=owner, title="Take one", audio_format="wav", duration=2.0)
        upload.audio.save("take-one.wav", ContentFile(tone_wav(2.0)), save=False)
        upload.save()
        assert send_upload(upload.pk) == "pending"
        pump_until(lambda: Upload.objects.get(pk=upload.pk).status != Upload.Status.PROCESSING, seconds=20)
        names = [u.file_name for u in engine.app.jobs.uploads.values()]
    upload.refresh_from_db()
    assert upload.status == Upload.Status.READY
    assert upload.audio_upload_id and ":" not in upload.audio_upload_id  # as the service gave it
    assert names and not names[0].endswith(".wav")  # sent without its extension


@pytest.mark.parametrize("overflow", ["414", "400", "truncate"])
def test_a_feed_that_takes_fewer_ids_leaves_no_song_silent(upstream_at, project, owner, db, overflow):
    with running_engine(render_delay=0.3, song_seconds=5.0, max_feed_ids=2, feed_overflow=overflow) as engine:
        upstream_at(engine.url)
        transforms = [make_request(project, owner, title=f"Song {i}") for i in range(3)]
        for transform in transforms:
            submit_transform(transform.pk)
        pump_until(lambda: all(s.is_finished for s in Song.objects.all()))
    assert list(Song.objects.values_list("status", flat=True)) == [Song.Status.DONE] * 6
