"""A song's lifecycle against upstreams that behave differently from the happy path: jobs the
service forgets, an outage and its recovery, and a variant retried on its own — in both
dialects, over real HTTP to the local engine switched into each behaviour."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from riffweb.studio.models import Failure, Song, Transform
from riffweb.upstream import tracker
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request

DIALECTS = ["riffusion", "useapi"]


def request_for(project, owner, dialect: str, **fields) -> Transform:
    if dialect == "useapi":
        fields = {"mode": Transform.Mode.COMPOSE, "prompts": [{"text": "piano"}], "model": "FUZZ-0.8", **fields}
    return make_request(project, owner, dialect=dialect, **fields)


def pump_until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tracker.run_pump(seconds=0.2)
        if condition():
            return time.monotonic()
    raise AssertionError([(s.variant, s.status, s.failure, s.error_detail[:100]) for s in Song.objects.all()])


def finished(transform):
    return lambda: all(s.is_finished for s in transform.songs.all())


# Dialect A's feed leaves a forgotten id out; dialect B answers "not found" or an empty list.
@pytest.mark.parametrize(("dialect", "unknown_job"), [("riffusion", "404"), ("useapi", "404"), ("useapi", "empty")])
def test_a_job_the_service_forgets_ends_lost_within_a_few_polls_with_a_retry(
    upstream_at, project, owner, db, settings, dialect, unknown_job
):
    with running_engine(render_delay=60, song_seconds=5.0, unknown_job=unknown_job) as engine:
        upstream_at(engine.url, dialect=dialect, RIFFWEB_LOST_AFTER_POLLS=4)
        transform = request_for(project, owner, dialect)
        assert submit_transform(transform.pk) == "submitted"
        engine.app.forget_jobs()
        started = time.monotonic()
        pump_until(finished(transform), seconds=30)
    songs = list(transform.songs.order_by("variant"))
    assert [(s.status, s.failure) for s in songs] == [(Song.Status.FAILED, Failure.LOST)] * 2
    assert all(s.can_retry and "lost track of this song" in s.card_message() for s in songs)
    assert time.monotonic() - started < settings.RIFFWEB_UPSTREAM_DEADLINE / 10  # polls, not the deadline


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_retried_variant_starts_over_alone_and_a_second_track_becomes_another_take(
    upstream_at, project, owner, db, dialect
):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect=dialect)
        transform = request_for(project, owner, dialect)
        submit_transform(transform.pk)
        pump_until(finished(transform), seconds=30)
        first, second = transform.songs.order_by("variant")
        assert (first.status, second.status) == (Song.Status.DONE, Song.Status.DONE)
        Song.objects.filter(pk=second.pk).fail(Failure.LOST)  # say the service lost B after all
        second.refresh_from_db()
        assert second.retry()
        assert Transform.objects.get(pk=transform.pk).status == Transform.Status.QUEUED
        assert submit_transform(transform.pk) == "submitted"
        pump_until(finished(transform), seconds=30)
        creates = engine.stats()["counts"]["tracks_created"]
    songs = {s.variant: s for s in transform.songs.all()}
    assert songs[0].audio.name == first.audio.name and songs[0].status == Song.Status.DONE  # untouched
    assert songs[1].status == Song.Status.DONE and songs[1].audio.name != second.audio.name
    assert songs[1].retries == 1
    # Every create of the engine makes two tracks: the one nobody waited for is shown, not dropped.
    assert songs[2].status == Song.Status.DONE and songs[2].variant_label == "3"
    assert creates == 2


def test_a_declined_request_offers_edit_and_send_again_instead_of_retry(upstream_at, project, owner, db):
    with running_engine(render_delay=0.3, moderation_words=("forbidden",)) as engine:
        upstream_at(engine.url)
        transform = make_request(project, owner, lyrics="[Verse]\nforbidden words")
        assert submit_transform(transform.pk) == "failed"
    for song in transform.songs.all():
        assert song.status == Song.Status.FAILED
        assert (song.failure, song.can_retry, song.can_resend) == (Failure.REJECTED, False, True)
        assert song.card_message().startswith("The music service declined this request (moderation).")
        assert "upstream" not in song.card_message().lower()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_outage_is_probed_with_one_call_at_a_time_and_polling_resumes_at_once(upstream_at, project, owner, db, dialect):
    """The service goes down while the songs render: polling stops and one cheap call probes,
    never further apart than PROBE_MAX (production cadence: polls 1–20 s apart, where the old
    backoff grew to a minute); the first answer puts every song's next poll at once."""
    with running_engine(render_delay=2.0, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect=dialect, RIFFWEB_POLL_FIRST=1, RIFFWEB_POLL_MIN=1, RIFFWEB_POLL_MAX=20)
        transforms = [request_for(project, owner, dialect, title=f"Song {i}") for i in range(3)]
        for transform in transforms:
            assert submit_transform(transform.pk) == "submitted"
        engine.app.set_outage(True)
        down = time.monotonic()
        waits = []
        while time.monotonic() - down < 12:
            tracker.run_pump(seconds=0.5)
            state = UpstreamState.get()
            if state.probe_at:
                waits.append((state.probe_at - timezone.now()).total_seconds())
        outage_calls = engine.stats()["counts"]["outage"]
        song = Song.objects.filter(status=Song.Status.RUNNING).first()
        assert "can't be reached right now" in song.card_message(unreachable=UpstreamState.is_unreachable())
        engine.app.set_outage(False)
        Song.objects.update(next_poll_at=timezone.now() + timedelta(hours=1))  # only the probe may ask
        pump_until(lambda: all(s.status == Song.Status.DONE for s in Song.objects.all()), seconds=40)
    assert waits and max(waits) <= tracker.PROBE_MAX
    assert outage_calls <= 2 * 12  # one probe at a time (at most one a second), never every song
    assert not UpstreamState.is_unreachable()
    assert Song.objects.count() == 6


def test_the_outage_notice_clears_when_a_status_call_answers(db):
    UpstreamState.mark_unreachable(timezone.now(), "GET /riffusion/feed → HTTP 503")
    assert UpstreamState.is_unreachable()
    assert UpstreamState.reachable_again() and not UpstreamState.is_unreachable()
    assert not UpstreamState.reachable_again()  # only the first answer ends it
