"""A burst of finished songs: every song's audio is stored before any song's cover art and
waveform are made, and those extras never fail a song or loop on one that kills workers."""

import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from riffweb.review.models import Notification
from riffweb.studio.models import FINISH_ATTEMPTS, Song
from riffweb.upstream import tracker
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request


def test_a_burst_is_stored_first_and_its_covers_and_waveforms_come_after(upstream_at, project, owner, db,
                                                                        django_capture_on_commit_callbacks):
    with running_engine(render_delay=1.0, song_seconds=5.0) as engine:
        upstream_at(engine.url)
        transforms = [make_request(project, owner, title=f"Song {i}") for i in range(2)]
        for transform in transforms:
            assert submit_transform(transform.pk) == "submitted"
        time.sleep(1.2)  # all four tracks finished: one status call reports them together
        deadline = time.monotonic() + 30
        with django_capture_on_commit_callbacks(execute=True):
            while Song.objects.exclude(status=Song.Status.DONE).exists() and time.monotonic() < deadline:
                tracker.run_pump(seconds=0.1)
        songs = list(Song.objects.order_by("pk"))
        # Every song playable, none with its extras yet: no download waited on a picture.
        assert [(s.status, bool(s.audio), s.finishing, s.cover.name, s.peaks) for s in songs] == [
            (Song.Status.DONE, True, True, "", [])
        ] * 4
        assert not Notification.objects.exists()  # "your song is ready" waits for the whole song
        with django_capture_on_commit_callbacks(execute=True):
            while Song.objects.filter(finishing=True).exists() and time.monotonic() < deadline:
                tracker.run_pump(seconds=0.1)
        assert engine.stats()["counts"]["image"] == 4
    songs = list(Song.objects.order_by("pk"))
    assert all(s.cover.name.endswith(".jpg") and len(s.peaks) > 100 and not s.finishing for s in songs)
    assert sorted(Notification.objects.values_list("song_id", "user_id", "kind")) == [
        (s.pk, owner.pk, Notification.Kind.FINISHED) for s in songs
    ]


def test_a_song_whose_extras_kill_every_worker_is_left_without_them(request_with_songs, db):
    song = request_with_songs.songs.get(variant=0)
    Song.objects.filter(pk=song.pk).update(status=Song.Status.DONE, audio="songs/a.mp3", finishing=True)
    now = timezone.now()
    for attempt in range(FINISH_ATTEMPTS):
        claimed = Song.objects.claim_finishing(song.pk, now, tracker.DOWNLOAD_LEASE)
        assert claimed is not None, attempt
        assert Song.objects.claim_finishing(song.pk, now, tracker.DOWNLOAD_LEASE) is None  # held
        now += tracker.DOWNLOAD_LEASE * 2  # the worker died: its lease ran out
    assert Song.objects.claim_finishing(song.pk, now, tracker.DOWNLOAD_LEASE) is None
    assert tracker.work_due(now, 5, set()) == (tracker.finish_song, [])
    song.refresh_from_db()
    assert song.status == Song.Status.DONE and song.audio.name == "songs/a.mp3"


def test_the_pumps_threads_store_finished_tracks_and_leave_extras_to_a_drain(request_with_songs, db):
    """A full decode in the pump's process took the CPU its polling needed (the cluster test
    tests/upstream/test_cluster.py sees the drain draw the peaks)."""
    finishing, downloading = request_with_songs.songs.order_by("variant")
    Song.objects.filter(pk=finishing.pk).update(status=Song.Status.DONE, audio="songs/a.mp3", finishing=True)
    Song.objects.filter(pk=downloading.pk).update(status=Song.Status.DOWNLOADING)
    now = timezone.now()
    assert tracker.work_due(now, 5, set(), extras=False) == (tracker.download_song, [downloading.pk])
    Song.objects.filter(pk=downloading.pk).update(status=Song.Status.DONE)
    assert tracker.work_due(now, 5, set(), extras=False) == (tracker.download_song, [])
    assert tracker.work_due(now, 5, set()) == (tracker.finish_song, [finishing.pk])


def test_extras_wait_while_a_finished_songs_audio_is_being_stored(request_with_songs, db):
    """A burst's downloads (and the pump's polling) need the CPU a full decode would take."""
    finishing, downloading = request_with_songs.songs.order_by("variant")
    Song.objects.filter(pk=finishing.pk).update(status=Song.Status.DONE, audio="songs/a.mp3", finishing=True)
    now = timezone.now()
    Song.objects.filter(pk=downloading.pk).update(status=Song.Status.DOWNLOADING,
                                                  lease_until=now + tracker.DOWNLOAD_LEASE)
    assert tracker.work_due(now, 5, set()) == (tracker.download_song, [])  # another worker stores it
    Song.objects.filter(pk=downloading.pk).update(lease_until=None, next_poll_at=now + timedelta(minutes=1))
    assert tracker.work_due(now, 5, set()) == (tracker.finish_song, [finishing.pk])  # a retry, later



def test_a_download_thread_asks_once_for_the_next_few_songs(project, owner, db):
    """In a burst, asking which song is due next before every download cost a query per song."""
    for i in range(4):
        make_request(project, owner, title=f"Song {i}")
    Song.objects.update(status=Song.Status.DOWNLOADING, upstream_done_at=timezone.now())
    claims = tracker._Claims()
    with CaptureQueriesContext(connection) as queries:
        taken = [claims.take(extras=False) for _ in range(9)]
    assert taken[8] is None  # all eight are this process's now
    assert {step for step, _ in taken[:8]} == {tracker.download_song}
    assert sorted(pk for _, pk in taken[:8]) == sorted(Song.objects.values_list("pk", flat=True))
    assert len(queries) == 2, [q["sql"] for q in queries]  # the eight, then none left



def test_a_thread_making_extras_looks_for_finished_audio_before_each(request_with_songs, project, owner, db):
    """A list of extras kept for a second let full decodes run while a burst's audio waited."""
    finishing, downloading = request_with_songs.songs.order_by("variant")
    others = list(make_request(project, owner).songs.values_list("pk", flat=True))
    Song.objects.filter(pk__in=[finishing.pk, *others]).update(status=Song.Status.DONE, audio="songs/a.mp3",
                                                               finishing=True)
    claims = tracker._Claims()
    assert claims.take(extras=True)[0] is tracker.finish_song
    Song.objects.filter(pk=downloading.pk).update(status=Song.Status.DOWNLOADING)
    assert claims.take(extras=True) == (tracker.download_song, downloading.pk)
