"""The pipeline with real django-q2 clusters (subprocesses) and the local engine over loopback HTTP.

Run on SQLite + ORM broker by default, and on PostgreSQL + Redis broker with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/riffweb REDIS_URL=redis://127.0.0.1:6379/0.
"""

import pytest

from riffweb import audio
from riffweb.studio.models import Song, Transform
from riffweb.queue import submit_request
from tests.cluster import running_engine, running_qcluster, start_qcluster, wait_for
from tests.conftest import make_request

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST = {"RIFFWEB_POLL_FIRST": "0.5", "RIFFWEB_POLL_MIN": "0.5", "RIFFWEB_POLL_MAX": "2"}


def all_finished():
    return not Song.objects.exclude(status__in=Song.FINISHED).exists()


def statuses():
    return sorted(Song.objects.values_list("status", flat=True))


def test_a_request_reaches_done_with_stored_decodable_audio(project, owner):
    with running_engine(render_delay=1.0) as engine, running_qcluster(engine.url, FAST) as cluster:
        transform = make_request(project, owner)
        submit_request(transform.pk)
        wait_for(all_finished, 60, message=f"songs to finish\n{cluster.log}")
        # Stored from the MP3's frame headers; the waveform is drawn by a task right after.
        wait_for(lambda: all(s.peaks for s in transform.songs.all()), 30, message=f"peaks\n{cluster.log}")
        counts = engine.stats()["counts"]
    for song in transform.songs.all():
        assert song.status == Song.Status.DONE, (song.error, song.error_detail)
        duration, fmt = audio.probe(song.audio.path)
        assert fmt == "mp3" and duration == pytest.approx(song.duration, abs=0.05)
        assert song.peaks and song.progress == 100
    assert counts["create"] == 1 and counts["audio"] == 2


def test_kill_9_with_50_songs_in_flight_loses_nothing_and_duplicates_nothing(project, owner):
    with running_engine(render_delay=8.0) as engine:
        cluster = start_qcluster(engine.url, FAST)
        try:
            transforms = [make_request(project, owner, title=f"Song {i}") for i in range(25)]
            for transform in transforms:
                submit_request(transform.pk)
            wait_for(
                lambda: Transform.objects.filter(status=Transform.Status.SUBMITTED).count() == 25,
                60, message=f"25 requests in flight\n{cluster.log}",
            )
            assert not Song.objects.filter(status=Song.Status.DONE).exists()
        finally:
            cluster.kill9()
        with running_qcluster(engine.url, FAST) as restarted:
            wait_for(all_finished, 150, interval=0.5, message=f"50 songs to finish\n{restarted.log}")
        counts = engine.stats()["counts"]
    assert statuses() == [Song.Status.DONE] * 50
    assert Song.objects.count() == 50
    assert counts["tracks_created"] == 25  # no request sent twice
    assert counts["audio"] == 50  # no song downloaded twice


def test_two_clusters_never_double_submit_or_double_download(project, owner):
    with running_engine(render_delay=2.0) as engine:
        with running_qcluster(engine.url, FAST) as one, running_qcluster(engine.url, FAST) as two:
            transforms = [make_request(project, owner, title=f"Song {i}") for i in range(10)]
            for transform in transforms:
                submit_request(transform.pk)
                submit_request(transform.pk)  # a re-sent form or a redelivered task
            wait_for(all_finished, 120, interval=0.5, message=f"20 songs\n{one.log}\n{two.log}")
        counts = engine.stats()["counts"]
    assert statuses() == [Song.Status.DONE] * 20
    assert counts["tracks_created"] == 10
    assert counts["audio"] == 20
