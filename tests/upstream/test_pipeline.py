"""The pipeline in one process: submit, batched polling, download into storage."""

import pytest

from riffweb import audio
from riffweb.studio.models import Song, Transform
from riffweb.upstream import tracker
from riffweb.upstream.submit import submit_transform
from tests.conftest import make_request


def run_until_finished(transform, seconds=10.0):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tracker.run_pump(seconds=0.5)
        if all(s.is_finished for s in transform.songs.all()):
            return
    raise AssertionError([(s.status, s.error, s.error_detail) for s in transform.songs.all()])


@pytest.mark.django_db
def test_a_request_ends_with_two_stored_decodable_songs(stub, upstream_at, project, owner):
    upstream_at(stub.url)
    transform = make_request(project, owner)
    assert submit_transform(transform.pk) == "submitted"
    transform.refresh_from_db()
    assert transform.status == Transform.Status.SUBMITTED
    assert len(transform.upstream_ids) == 2
    run_until_finished(transform)
    for song in transform.songs.all():
        assert song.status == Song.Status.DONE
        assert song.progress == 100
        duration, fmt = audio.probe(song.audio.path)
        assert fmt == "wav" and abs(duration - 1.0) < 0.05
        assert song.duration == pytest.approx(duration, abs=0.01)
        assert len(song.peaks) > 100
    assert stub.calls["create"] == 1
    assert stub.calls["audio"] == 2


@pytest.mark.django_db
def test_a_redelivered_submit_task_does_not_submit_twice(stub, upstream_at, project, owner):
    upstream_at(stub.url)
    transform = make_request(project, owner)
    assert submit_transform(transform.pk) == "submitted"
    assert submit_transform(transform.pk) == "not due"
    assert stub.calls["create"] == 1
