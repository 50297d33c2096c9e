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
from riffweb.upstream import tracker
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
