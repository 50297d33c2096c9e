"""Status calls on a bad day: a failed feed call is asked again at once, a 429 without a wait
holds back only the songs it refused, and with a fifth of all answers faulted every song is
still stored, with no pause of all polling and a bounded number of calls."""

import time

from django.utils import timezone

from riffweb.studio.models import Song, Transform
from riffweb.upstream import client as upstream
from riffweb.upstream import tracker
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request


def rendered(stub, upstream_at, project, owner, requests: int) -> list[Transform]:
    """Submitted requests whose tracks the stub has finished, every song due for a poll."""
    upstream_at(stub.url)
    transforms = [make_request(project, owner, title=f"Song {i}") for i in range(requests)]
    for transform in transforms:
        assert submit_transform(transform.pk) == "submitted"
    time.sleep(stub.render_delay + 0.1)
    Song.objects.update(next_poll_at=timezone.now())
    return transforms


def statuses() -> list[str]:
    return sorted(Song.objects.values_list("status", flat=True))


def test_a_failed_status_call_is_asked_again_at_once_not_after_a_backoff(stub, upstream_at, project, owner, db):
    rendered(stub, upstream_at, project, owner, requests=2)
    stub.fail("feed", (500, {"error": "upstream hiccup"}))
    calls = tracker.poll_due(upstream.configured(), UpstreamState.get())
    assert (calls, stub.calls["feed"]) == (2, 2)
    assert statuses() == [Song.Status.DOWNLOADING] * 4  # every finished track noticed in this loop
    assert not UpstreamState.is_unreachable()


def test_a_429_without_a_wait_holds_back_only_the_songs_it_refused(stub, upstream_at, project, owner, db):
    rendered(stub, upstream_at, project, owner, requests=2)
    UpstreamState.ensure()
    UpstreamState.use_feed_chunk(2)  # two status calls, one per request
    stub.fail("feed", (429, {"detail": "Too Many Requests"}))
    assert tracker.poll_due(upstream.configured(), UpstreamState.get()) == 2
    assert statuses() == [Song.Status.DOWNLOADING] * 2 + [Song.Status.RUNNING] * 2
    state = UpstreamState.get()
    assert state.busy_until is None and "429" in state.last_error_detail
    refused = Song.objects.filter(status=Song.Status.RUNNING)
    assert all(s.next_poll_at <= timezone.now() + timezone.timedelta(seconds=1) for s in refused)
    deadline = time.monotonic() + 20
    while statuses() != [Song.Status.DONE] * 4 and time.monotonic() < deadline:
        tracker.run_pump(seconds=0.3)
    assert statuses() == [Song.Status.DONE] * 4
    assert stub.calls["feed"] <= 4


def test_a_song_refused_mid_render_is_asked_again_soon_and_keeps_its_cadence(stub, upstream_at, project, owner, db):
    """Stretching a refused song's cadence made one refused mid-render wait past its finish."""
    rendered(stub, upstream_at, project, owner, requests=1)  # RIFFWEB_POLL_MIN 0.1 s, POLL_MAX 0.5 s
    Song.objects.update(poll_interval=1.5)  # halfway through a long render: polled seldom
    stub.fail("feed", (429, {"detail": "Too Many Requests"}))
    stub.fail("feed", (429, {"detail": "Too Many Requests"}))
    waits = []
    for _ in range(2):  # refused twice in a row
        Song.objects.update(next_poll_at=timezone.now())
        asked = timezone.now()
        tracker.poll_due(upstream.configured(), UpstreamState.get())
        waits.append([(s.next_poll_at - asked).total_seconds() for s in Song.objects.all()])
    assert all(0.08 <= w <= 0.13 for w in waits[0]), waits  # POLL_MIN, not 1.5 x its cadence
    assert all(0.13 <= w <= 0.19 for w in waits[1]), waits  # half as long again
    assert {s.poll_interval for s in Song.objects.all()} == {1.5}
    Song.objects.update(next_poll_at=timezone.now())
    tracker.poll_due(upstream.configured(), UpstreamState.get())  # answered: the count starts again
    assert statuses() == [Song.Status.DOWNLOADING] * 2 and UpstreamState.get().refused_in_a_row == 0


def test_a_limit_refusing_for_hours_keeps_the_longest_wait_and_polling_alive(stub, upstream_at, project, owner, db):
    rendered(stub, upstream_at, project, owner, requests=1)  # RIFFWEB_POLL_MAX 0.5 s
    UpstreamState.ensure()
    UpstreamState.objects.update(refused_in_a_row=UpstreamState.REFUSALS_COUNTED)  # 1.5 ** 32767 overflows
    stub.fail("feed", (429, {"detail": "Too Many Requests"}))
    asked = timezone.now()
    assert tracker.poll_due(upstream.configured(), UpstreamState.get()) == 1
    waits = [(s.next_poll_at - asked).total_seconds() for s in Song.objects.all()]
    assert all(1.3 <= w <= 1.7 for w in waits), waits  # 3 x RIFFWEB_POLL_MAX, the ceiling
    assert UpstreamState.get().refused_in_a_row == UpstreamState.REFUSALS_COUNTED


def test_a_fifth_of_answers_faulted_stores_every_song_without_pausing_all_polling(upstream_at, project, owner, db):
    with running_engine(render_delay=1.0, song_seconds=5.0, fault_rate_429=0.05, fault_rate_5xx=0.1,
                        fault_rate_malformed=0.05, seed_faults=11) as engine:
        upstream_at(engine.url)
        transforms = [make_request(project, owner, title=f"Song {i}") for i in range(5)]
        deadline = time.monotonic() + 60
        while Song.objects.exclude(status__in=Song.FINISHED).exists() and time.monotonic() < deadline:
            for transform in Transform.objects.filter(status=Transform.Status.QUEUED):
                submit_transform(transform.pk)  # the create path's own 429 waits are not under test
            Transform.objects.filter(status=Transform.Status.QUEUED).update(next_attempt_at=timezone.now())
            tracker.run_pump(seconds=0.3)
            assert UpstreamState.get().busy_until is None  # no answer named a wait: nothing pauses all
        counts = engine.stats()["counts"]
    songs = list(Song.objects.all())
    assert [s.status for s in songs] == [Song.Status.DONE] * 10
    assert all(s.audio and s.duration >= 4 for s in songs)
    assert sum(counts.get(k, 0) for k in ("fault_429", "fault_5xx", "fault_malformed")) > 0
    assert counts["tracks_created"] == 5
    # Polls 0.1–0.5 s apart over about 1.5 s, all ten songs in one call: a few dozen calls at
    # most, where asking each failed call's songs again in halves, or per song, costs more.
    assert counts["feed"] <= 40, counts
