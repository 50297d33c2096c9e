"""Six unfinished songs on a project page: one status request at a time, not one per card, less
often while nothing changes, and a card follows its row."""

import time

import pytest
from django.utils import timezone

from riffweb.studio.models import Failure, Song
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, make_request

STATUS_PATH = "/songs/status/"


@pytest.fixture
def six_running(transactional_db, project, owner) -> list[Song]:
    for title in ("Moon river", "Desert heat", "Harbour lights"):
        make_request(project, owner, title=title)
    Song.objects.update(status=Song.Status.RUNNING, progress=10, submitted_at=timezone.now(),
                        last_progress_at=timezone.now(), changed_at=timezone.now())
    return list(Song.objects.order_by("pk"))


def test_a_page_with_six_unfinished_cards_polls_once_per_interval(page, live_server, owner, project, six_running):
    log_in(page, live_server, owner.username, PASSWORD)
    polls, sent = [], []
    page.on("request", lambda request: (polls.append(request.url), sent.append(time.monotonic()))
            if STATUS_PATH in request.url else None)
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    assert page.locator("#requests progress").count() == 6

    # Nothing moves: after its first question the poll waits 3, 4, then 6 s (data-poll-waits,
    # after one, two, three quiet answers), each give or take a fifth and taken at the next of
    # htmx's 1 s ticks; at a steady 2 s it would have asked six times in 13 s.
    page.wait_for_timeout(13_000)
    assert 3 <= len(polls) <= 4, polls
    gaps = [round(b - a) for a, b in zip(sent, sent[1:])]
    assert gaps[0] in (3, 4) and gaps[1] in (3, 4, 5), gaps
    assert all(url.count("card=") == 6 for url in polls)  # each one carries all six cards

    song = six_running[3]
    Song.objects.filter(pk=song.pk).update(progress=64, changed_at=timezone.now())
    card = page.locator(f"#song-status-{song.pk}")
    card.locator(".percent", has_text="64%").wait_for(timeout=10_000)
    assert page.locator("#requests .percent", has_text="10%").count() == 5
    moved = len(polls)
    # An answer that carried a change: the next poll is due 2 s later, give or take a fifth, so it
    # goes at the second or third tick after; three quiet answers before, it would wait 5 s or more.
    page.wait_for_timeout(3_800)
    assert len(polls) > moved, polls

    Song.objects.filter(pk=song.pk).fail(Failure.LOST)
    page.locator(f"#song-status-{song.pk} [role=alert]", has_text="lost track of this song").wait_for(timeout=8_000)
    assert card.get_by_role("button", name="Retry").is_visible()

    # Once every card has ended, the page asks about no card: its one poll keeps its cadence
    # only for the top bar's inbox count (a poll in flight at the swap may still carry cards).
    Song.objects.exclude(pk=song.pk).fail(Failure.TIMED_OUT)
    page.locator("#requests [role=alert]").nth(5).wait_for(timeout=8_000)
    settled = len(polls)
    page.wait_for_timeout(8_000)  # after the change: 2 s, then 3 s, each at most a fifth longer
    later = polls[settled + 1:]
    assert 1 <= len(later) <= 4, later
    assert all("card=" not in url and "live=inbox" in url for url in later)
