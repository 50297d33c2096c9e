"""Each upstream answer, end to end in one process: the local engine's fault injection (or the
scripted stub where the engine cannot produce the answer) → what the musician and operator see."""

import dataclasses
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from riffweb.studio.models import Failure, Song, Transform, failure_message
from riffweb.upstream import client as upstream
from riffweb.upstream import tracker
from riffweb.upstream.context_processors import upstream_health
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request, make_user


OPERATOR_MESSAGE = failure_message(Failure.ACCOUNT)


def pump_until(transform, seconds=20.0, downloads_at_once=False):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if downloads_at_once:  # a failed download's next attempt is due now, not after its backoff
            Song.objects.filter(status=Song.Status.DOWNLOADING).update(next_poll_at=timezone.now())
        tracker.run_pump(seconds=0.3)
        if all(s.is_finished for s in transform.songs.all()):
            return list(transform.songs.order_by("variant"))
    raise AssertionError([(s.status, s.error, s.error_detail[:200]) for s in transform.songs.all()])


def faults(engine, **changes):
    engine.app.config = dataclasses.replace(engine.app.config, **changes)


def make_due(transform):
    Transform.objects.filter(pk=transform.pk).update(next_attempt_at=timezone.now())


@pytest.fixture
def engine(upstream_at):
    with running_engine(render_delay=0.3) as server:
        upstream_at(server.url)
        yield server


@pytest.fixture
def request_(project, owner):
    return make_request(project, owner)


def test_429_waits_at_least_10_seconds_and_then_succeeds(engine, request_, db):
    faults(engine, fault_rate_429=1.0)
    assert submit_transform(request_.pk) == "retry"
    request_.refresh_from_db()
    assert request_.status == Transform.Status.QUEUED
    assert request_.next_attempt_at >= timezone.now() + timedelta(seconds=9)
    assert all(s.status == Song.Status.PENDING for s in request_.songs.all())
    faults(engine, fault_rate_429=0.0)
    make_due(request_)
    songs = pump_until(request_)
    assert [s.status for s in songs] == [Song.Status.DONE, Song.Status.DONE]
    assert engine.stats()["counts"]["tracks_created"] == 1


@pytest.mark.parametrize("fault", ["fault_rate_5xx", "fault_rate_malformed"])
def test_5xx_and_malformed_answers_are_retried_with_the_body_kept(engine, request_, fault, db):
    faults(engine, **{fault: 1.0})
    assert submit_transform(request_.pk) == "retry"
    request_.refresh_from_db()
    assert request_.status == Transform.Status.QUEUED and request_.next_attempt_at > timezone.now()
    assert request_.error_detail  # the body, for the operator
    assert request_.error == ""  # nothing alarming for the musician yet
    faults(engine, **{fault: 0.0})
    make_due(request_)
    assert [s.status for s in pump_until(request_)] == [Song.Status.DONE] * 2


def test_a_request_that_keeps_failing_ends_failed_with_a_reason(engine, request_, db, monkeypatch):
    from riffweb.upstream import submit

    monkeypatch.setattr(submit, "MAX_SUBMIT_ATTEMPTS", 2)
    faults(engine, fault_rate_5xx=1.0)
    assert submit_transform(request_.pk) == "retry"
    make_due(request_)
    assert submit_transform(request_.pk) == "failed"
    for song in request_.songs.all():
        assert song.status == Song.Status.FAILED and "kept failing" in song.error


def test_a_failed_render_fails_the_song_with_the_upstreams_reason(upstream_at, project, owner, db):
    with running_engine(render_delay=0.2, fail_render_words=("failrender",)) as engine:
        upstream_at(engine.url)
        transform = make_request(project, owner, tags="failrender synthwave")
        submit_transform(transform.pk)
        songs = pump_until(transform)
    assert all(s.status == Song.Status.FAILED and "could not make this song" in s.error for s in songs)
    assert all("render failed" in s.error for s in songs)


def test_401_fails_songs_and_staff_see_attention_until_a_call_succeeds(upstream_at, project, owner, db, settings):
    with running_engine(render_delay=0.2, token="right-token") as engine:
        upstream_at(engine.url)
        settings.RIFFWEB_UPSTREAM_TOKEN = "wrong-token"
        transform = make_request(project, owner)
        assert submit_transform(transform.pk) == "failed"
        for song in transform.songs.all():
            assert song.status == Song.Status.FAILED and song.error == OPERATOR_MESSAGE
            assert "wrong-token" not in song.error_detail
        staff = make_user("stella")
        staff.is_staff = True
        staff.save()
        request = RequestFactory().get("/")
        request.user = staff
        assert "401" in upstream_health(request)["upstream_attention"]
        request.user = owner
        assert upstream_health(request)["upstream_attention"] is None
        settings.RIFFWEB_UPSTREAM_TOKEN = "right-token"
        again = make_request(project, owner)
        assert submit_transform(again.pk) == "submitted"
        request.user = staff
        assert upstream_health(request)["upstream_attention"] is None


def test_596_needs_an_operator(stub, upstream_at, request_, db):
    upstream_at(stub.url)
    stub.fail("create", (596, {"error": "Your Riffusion account has pending error"}))
    assert submit_transform(request_.pk) == "failed"
    assert "596" in UpstreamState.get().attention
    assert all(s.error == OPERATOR_MESSAGE for s in request_.songs.all())


def test_a_create_that_times_out_is_unknown_and_never_resent_by_itself(stub, upstream_at, request_, db, monkeypatch):
    upstream_at(stub.url)
    monkeypatch.setattr(upstream, "CREATE_TIMEOUT", (1, 0.3))
    stub.fail("create", "hang:1")
    assert submit_transform(request_.pk) == "unknown"
    request_.refresh_from_db()
    assert request_.status == Transform.Status.UNKNOWN
    assert all(s.status == Song.Status.FAILED and s.failure == Failure.UNKNOWN for s in request_.songs.all())
    assert all("cannot tell whether it started" in s.error for s in request_.songs.all())
    tracker.run_pump(seconds=0.5)
    assert stub.calls["create"] == 1
    # The musician retries both variants: one more create fills both, and they finish.
    assert all(s.retry() for s in request_.songs.all())
    submit_transform(request_.pk)
    assert [s.status for s in pump_until(request_)] == [Song.Status.DONE] * 2
    assert stub.calls["create"] == 2


def test_status_call_failures_back_off_and_the_songs_still_finish(engine, request_, db):
    submit_transform(request_.pk)
    faults(engine, fault_rate_5xx=0.5, fault_rate_malformed=0.5)
    tracker.run_pump(seconds=1.0)
    assert all(s.status == Song.Status.RUNNING for s in request_.songs.all())
    assert UpstreamState.get().last_error_detail
    faults(engine, fault_rate_5xx=0.0, fault_rate_malformed=0.0)
    Song.objects.filter(transform=request_).update(next_poll_at=timezone.now())
    assert [s.status for s in pump_until(request_)] == [Song.Status.DONE] * 2


def test_a_429_naming_its_wait_on_the_feed_pauses_all_polling(engine, request_, db):
    submit_transform(request_.pk)
    faults(engine, fault_rate_429=1.0, retry_after=12)
    Song.objects.filter(transform=request_).update(next_poll_at=timezone.now())
    tracker.run_pump(seconds=1.0)
    assert engine.stats()["counts"]["feed"] == 1  # one call, then it waits
    assert UpstreamState.get().busy_until >= timezone.now() + timedelta(seconds=8)


def test_twenty_percent_faults_lose_nothing(upstream_at, project, owner, db):
    with running_engine(render_delay=0.3, fault_rate_429=0.05, fault_rate_5xx=0.1, fault_rate_malformed=0.05, seed_faults=3) as engine:
        upstream_at(engine.url)
        transforms = [make_request(project, owner, title=f"Song {i}") for i in range(3)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for t in transforms:
                submit_transform(t.pk)
            Transform.objects.filter(status=Transform.Status.QUEUED).update(next_attempt_at=timezone.now())
            UpstreamState.objects.update(busy_until=None)
            tracker.run_pump(seconds=0.3)
            if not Song.objects.exclude(status__in=Song.FINISHED).exists():
                break
        assert sorted(Song.objects.values_list("status", flat=True)) == [Song.Status.DONE] * 6
        assert engine.stats()["counts"]["tracks_created"] == 3


def test_a_song_past_the_deadline_times_out_with_a_retry(upstream_at, project, owner, db, settings):
    with running_engine(render_delay=30) as engine:
        upstream_at(engine.url)
        transform = make_request(project, owner)
        submit_transform(transform.pk)
        Song.objects.filter(transform=transform).update(submitted_at=timezone.now() - timedelta(hours=1))
        songs = pump_until(transform, seconds=10)
    assert all(s.status == Song.Status.TIMED_OUT and "Retry" in s.error for s in songs)
    assert songs[0].retry()
    assert [s.status for s in transform.songs.order_by("variant")] == [Song.Status.PENDING, Song.Status.TIMED_OUT]


def test_a_failed_download_is_retried(stub, upstream_at, request_, db, monkeypatch):
    upstream_at(stub.url)
    stub.fail("audio", (500, "try later"))
    submit_transform(request_.pk)
    assert [s.status for s in pump_until(request_, downloads_at_once=True)] == [Song.Status.DONE] * 2
    assert stub.calls["audio"] == 3


def test_a_download_that_is_not_audio_fails_after_its_attempts(stub, upstream_at, request_, db, monkeypatch):
    upstream_at(stub.url)
    monkeypatch.setattr(tracker, "MAX_DOWNLOAD_ATTEMPTS", 2)
    stub.audio = b"<html>not audio</html>"
    submit_transform(request_.pk)
    songs = pump_until(request_, downloads_at_once=True)
    assert all(s.status == Song.Status.FAILED and s.failure == Failure.NOT_SAVED for s in songs)
    assert all("could not save this song's audio" in s.error for s in songs)
    assert all(not s.audio for s in songs)


def test_many_songs_share_one_feed_call(engine, project, owner, db, settings):
    transforms = [make_request(project, owner, title=f"Song {i}") for i in range(5)]
    for t in transforms:
        submit_transform(t.pk)
    Song.objects.update(next_poll_at=timezone.now())
    before = engine.stats()["counts"].get("feed", 0)
    tracker.poll_due(upstream.configured(), UpstreamState.get())
    assert engine.stats()["counts"]["feed"] - before == 1


def test_it_falls_back_to_pairs_when_the_feed_refuses_long_lists(stub, upstream_at, project, owner, db):
    upstream_at(stub.url)
    stub.max_feed_ids = 2
    transforms = [make_request(project, owner, title=f"Song {i}") for i in range(3)]
    for t in transforms:
        submit_transform(t.pk)
    for t in transforms:
        pump_until(t)
    assert Song.objects.filter(status=Song.Status.DONE).count() == 6
    assert UpstreamState.get().feed_chunk == 2


def test_the_reconciler_sends_a_request_whose_task_was_lost(engine, request_, db):
    Transform.objects.filter(pk=request_.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert [s.status for s in pump_until(request_)] == [Song.Status.DONE] * 2


def test_a_submit_claim_whose_worker_died_becomes_unknown(engine, request_, db):
    Transform.objects.filter(pk=request_.pk).update(
        status=Transform.Status.SUBMITTING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    songs = pump_until(request_)
    request_.refresh_from_db()
    assert request_.status == Transform.Status.UNKNOWN
    assert all(s.failure == Failure.UNKNOWN and s.can_retry for s in songs)
    assert engine.stats()["counts"].get("create", 0) == 0


def test_the_heartbeat_check_fails_only_when_work_is_overdue_and_nobody_works(request_, db):
    out = StringIO()
    call_command("upstream_check", "--minutes", "1", stdout=out)  # fresh work: fine
    Transform.objects.filter(pk=request_.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(SystemExit) as exit_:
        call_command("upstream_check", "--minutes", "1", stdout=out, stderr=StringIO())
    assert exit_.value.code == 1
    UpstreamState.ensure()
    UpstreamState.objects.update(heartbeat_at=timezone.now())
    call_command("upstream_check", "--minutes", "1", stdout=out)
