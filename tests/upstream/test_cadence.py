"""When a rendering song is asked about next. The poll that finds a render done comes just after
its end: within about a percent of the render (at most about NEAR_DONE_INTERVAL) for a render
whose answers give whole percents at a steady pace; and a render that slows down near its end is still
found, by the usual near-done cadence.

Each song is polled exactly when it is due, as an idle pump would, with answers made up from a
render clock: what is decided here is only when riffweb asks."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from riffweb.studio.models import Song
from riffweb.upstream import client as upstream
from riffweb.upstream import tracker
from tests.conftest import make_request


def rendering(project, owner) -> tuple[Song, object]:
    """A submitted song, first asked about 3 s from now; and that now."""
    now = timezone.now()
    transform = make_request(project, owner)
    Song.objects.filter(transform=transform).update(**Song.running_fields(now, 3.0), job_id="j", upstream_id="t")
    return transform.songs.get(variant=0), now


def follow(song: Song, submitted, progress_at, ends_at: float) -> tuple[list[int], float]:
    """Answer every poll until the render is done: the progress each earlier poll was told, and
    how long after the end the poll that found it done came."""
    told = []
    while True:
        song.refresh_from_db()
        assert song.status == Song.Status.RUNNING and len(told) < 200
        now = song.next_poll_at
        t = (now - submitted).total_seconds()
        if t >= ends_at:
            assert tracker.apply_track(song, upstream.Track(id="t", state="done", audio_url="/a.mp3"), now) == "done"
            return told, t - ends_at
        told.append(progress_at(t))
        assert tracker.apply_track(song, upstream.Track(id="t", state="running", progress=told[-1]), now) == "running"


def whole_percent(starts: float, seconds: float):
    """A render that starts `starts` seconds after the submit and reports whole percents, as the
    engine and the hosted services do."""
    return lambda t: max(1, min(99, int(100 * (t - starts) / seconds))) if t > starts else 0


@pytest.mark.parametrize("seconds", [45, 60, 100, 180])
@pytest.mark.parametrize("starts", [0.0, 0.37, 1.9])
def test_the_poll_that_finds_a_render_done_comes_just_after_its_end(project, owner, seconds, starts):
    song, submitted = rendering(project, owner)
    told, late = follow(song, submitted, whole_percent(starts, seconds), starts + seconds)
    # A percent of the render (or NEAR_DONE_INTERVAL) after its end at most, give or take what
    # whole percents hide of its pace; the near-done cadence alone came up to 1.38 s after.
    assert 0 <= late <= 1.35 * min(seconds / 100, tracker.NEAR_DONE_INTERVAL) + 2 * tracker.AIM_SLACK
    # Aimed at the end, not asked every NEAR_DONE_INTERVAL: once, or for a render slower than
    # that a percent, at most three times in its last 5 %.
    assert len([p for p in told if p >= tracker.NEAR_DONE]) <= (1 if seconds / 100 <= tracker.NEAR_DONE_INTERVAL else 3)


def test_a_render_that_slows_down_near_its_end_is_still_found_by_the_near_done_cadence(project, owner):
    song, submitted = rendering(project, owner)

    def progress(t):  # steady for 54 s (90 %), then the last tenth takes 30 s instead of 6
        return int(100 * t / 60) if t < 54 else min(99, 90 + int((t - 54) / 3))

    told, late = follow(song, submitted, progress, 84)
    assert late <= tracker.NEAR_DONE_INTERVAL * 1.15 + tracker.AIM_SLACK
    assert len(told) <= 30


def test_a_song_whose_poll_is_aimed_at_its_end_does_not_ride_along_early(project, owner):
    song, submitted = rendering(project, owner)
    render = whole_percent(0, 60)
    for _ in range(20):
        now = song.next_poll_at
        tracker.apply_track(song, upstream.Track(id="t", state="running", progress=render((now - submitted).total_seconds())), now)
        song.refresh_from_db()
        if tracker._aimed(song):
            break
    assert tracker._aimed(song)
    aimed_at = song.next_poll_at
    other = Song.objects.exclude(pk=song.pk).get()
    Song.objects.filter(pk=other.pk).update(next_poll_at=aimed_at - timedelta(seconds=1))
    due = tracker._due_songs(aimed_at - timedelta(seconds=1), limit=100, size=100)
    assert [s.pk for s in due] == [other.pk]  # a second before its aim, it would find the render unfinished
    Song.objects.filter(pk=song.pk).update(first_progress_at=None)  # no pace measured: rides along as before
    due = tracker._due_songs(aimed_at - timedelta(seconds=1), limit=100, size=100)
    assert sorted(s.pk for s in due) == sorted([other.pk, song.pk])


@pytest.mark.parametrize("ends_at", [40, 130])
def test_a_service_that_reports_no_progress_is_still_found_done(project, owner, ends_at):
    """Without progress in its answers, riffweb estimates it from the dialect's usual render
    time (95 s): a render done sooner is found by the halfway polls, one done later by the
    near-done cadence, never by a poll aimed at an end the service never gave."""
    song, submitted = rendering(project, owner)
    told, late = follow(song, submitted, lambda t: None, ends_at)
    assert 0 <= late <= (settings.RIFFWEB_POLL_MAX if ends_at < 95 else tracker.NEAR_DONE_INTERVAL) * 1.15 + tracker.AIM_SLACK
