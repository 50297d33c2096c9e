"""The tracking chain under a burst: one pump on its way however many requests kick it, and
a pump that keeps tracking while songs are in flight or the broker's queue is backed up,
instead of handing over to a successor that would wait for a free worker."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.brokers import get_broker

from riffweb import queue
from riffweb.studio.models import Song
from riffweb.upstream import tasks, tracker
from riffweb.upstream.models import UpstreamState
from tests.conftest import make_request


@pytest.fixture(autouse=True)
def inline(settings):
    settings.RIFFWEB_DOWNLOAD_THREADS = 0  # one connection: the test's transaction sees every row


def pumps(sent) -> int:
    return sum(func == queue.PUMP for func, _ in sent)


def test_a_burst_of_requests_starts_one_pump_not_one_each(enqueued, db):
    for transform_id in range(1, 51):
        queue.submit_request(transform_id)
    assert sum(func == queue.SUBMIT for func, _ in enqueued) == 50
    assert pumps(enqueued) == 1
    # The pump on its way is any pump's to take: the one that runs first tracks.
    assert tracker.run_pump(seconds=0.05)
    queue.pump_successor()
    assert pumps(enqueued) == 2
    queue.kick_pump()  # the successor is on its way
    assert pumps(enqueued) == 2


def test_a_pump_lost_on_its_way_is_replaced_by_the_next_kick(enqueued, db):
    queue.kick_pump()
    UpstreamState.objects.update(pump_lease_until=timezone.now() - timedelta(seconds=1))  # its hold ran out
    queue.kick_pump()
    assert pumps(enqueued) == 2


def test_a_pump_keeps_tracking_while_songs_are_in_flight_or_the_queue_is_backed_up(settings, monkeypatch,
                                                                                   project, owner):
    settings.RIFFWEB_PUMP_SECONDS = 0.2
    monkeypatch.setattr(tracker, "PUMP_LONGEST", 3.0)
    broker = get_broker()
    try:
        started = time.monotonic()
        assert tracker.run_pump()
        assert time.monotonic() - started < 3.0  # nothing queued, nothing in flight: it hands over on time
        transform = make_request(project, owner)
        started = time.monotonic()
        assert tracker.run_pump()
        assert time.monotonic() - started >= 3.0  # songs in flight: it tracks them for as long as it may
        transform.songs.update(status=Song.Status.DONE)
        for n in range(queue.BACKED_UP + 1):
            broker.enqueue(f"task {n}")  # as many packages as a burst leaves waiting for a worker
        assert queue.backed_up()
        started = time.monotonic()
        assert tracker.run_pump()
        assert time.monotonic() - started >= 3.0  # tracked for as long as it may
    finally:
        broker.purge_queue()


def drains(sent) -> int:
    return sum(func == queue.DRAIN for func, _ in sent)


def test_drains_never_pile_up_in_the_queue_ahead_of_the_pumps_successor(enqueued, db, monkeypatch):
    UpstreamState.ensure()
    UpstreamState.objects.update(pump_owner="a pump", pump_lease_until=timezone.now() + timedelta(minutes=1))
    for _ in range(5):  # the pump asks for help every few seconds while a burst lasts
        queue.drain_downloads()
    assert drains(enqueued) == 1  # one waits for a worker; more would only wait behind it
    monkeypatch.setattr(tracker, "drain_downloads", lambda: 0)  # its work is not this test's
    tasks.drain_downloads()  # a worker takes it ...
    queue.drain_downloads()
    assert drains(enqueued) == 2  # ... and the next may be asked for
    UpstreamState.objects.update(drain_queued_until=timezone.now() - timedelta(seconds=1))  # lost on its way
    queue.drain_downloads()
    assert drains(enqueued) == 3


def test_previews_wait_while_a_finished_songs_audio_is_due(project, owner, monkeypatch):
    transform = make_request(project, owner)
    running, finished = transform.songs.order_by("variant")
    Song.objects.filter(pk=running.pk).update(status=Song.Status.RUNNING, upstream_partial_url="http://up/p.mp3")
    Song.objects.filter(pk=finished.pk).update(status=Song.Status.DOWNLOADING, upstream_audio_url="http://up/a.mp3")
    order = []
    monkeypatch.setattr(tracker, "fetch_partial", lambda pk: order.append(("preview", pk)))
    monkeypatch.setattr(tracker, "download_song",
                        lambda pk: order.append(("audio", pk)) or Song.objects.filter(pk=pk).update(status=Song.Status.DONE))
    monkeypatch.setattr(tracker, "poll_due", lambda *args, **kwargs: 0)
    tracker.run_pump(seconds=0.5)
    assert order[:2] == [("audio", finished.pk), ("preview", running.pk)]


def test_a_drain_that_starts_before_the_pumps_successor_tracks_in_its_place(enqueued, settings, db, monkeypatch):
    settings.RIFFWEB_PUMP_SECONDS = 0.1
    drained = []
    monkeypatch.setattr(tracker, "drain_downloads", lambda: drained.append(1) or 0)
    queue.drain_downloads()
    queue.pump_successor()  # the pump ended; its successor waits in the queue behind the drain
    assert tasks.drain_downloads().startswith("tracked")
    assert drained == [] and pumps(enqueued) == 2  # it handed over in turn
    # The first successor, reaching a worker while the new pump tracks, ends at once: one chain.
    UpstreamState.objects.update(pump_owner="the new pump", pump_lease_until=timezone.now() + timedelta(minutes=1))
    assert tasks.pump() == "another pump is running" and pumps(enqueued) == 2
