"""What musicians and staff see in Chromium when the music service answers the ways its
documentation allows: a dialect B job with one song, a busy account (429), an account error (596);
plus the open list of lyrics section markers and the seed on a dialect B transform."""

import time

import pytest
from playwright.sync_api import expect

from riffweb import queue
from riffweb.studio.models import FAILURE_MESSAGES, Failure, Project, Song, Transform
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, make_request

pytestmark = pytest.mark.integration

FINISH = 60_000  # ms: a short song rendered, downloaded and shown


@pytest.fixture
def studio(page, live_server, owner):
    project = Project.create_for(owner, name="Harbour lights")
    log_in(page, live_server, owner.username, PASSWORD)
    return project


def ask_professional(page, live_server, project, lyrics="[Verse]\nSalt on the wire\n[Chorus]\nHold the line"):
    page.goto(f"{live_server.url}{project.get_absolute_url()}?mode=professional")
    page.get_by_label("Title", exact=True).fill("Tide")
    page.get_by_label("Lyrics", exact=True).fill(lyrics)
    page.get_by_label("Style tags", exact=True).fill("sea shanty, accordion")
    page.get_by_role("button", name="Generate two variants").click()


def made_in_background(project, owner, title):
    """A dialect B song made by the worker cluster, as if asked for earlier."""
    transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}],
                             dialect="useapi", model="FUZZ-0.8", title=title)
    queue.submit_request(transform.pk)
    return transform


def wait_until(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what()
        time.sleep(0.3)


def test_a_one_song_job_ends_both_cards_one_playable_one_with_a_retry(page, live_server, studio, stack):
    stack("useapi", songs_per_job=1, song_seconds=4.0, render_delay=0.3)
    ask_professional(page, live_server, studio)

    cards = page.locator("#requests .song")
    expect(cards).to_have_count(2)
    expect(page.locator("#requests audio")).to_have_count(1, timeout=FINISH)
    expect(page.locator("#requests .song-status .error")).to_have_text(FAILURE_MESSAGES[Failure.FEWER],
                                                                       timeout=FINISH)
    expect(page.locator("#requests").get_by_role("button", name="Retry")).to_have_count(1)
    expect(page.locator("#requests progress")).to_have_count(0)  # no card left polling at 0 %


def test_a_busy_account_says_how_many_jobs_it_runs(page, live_server, studio, owner, stack):
    stack("useapi", max_jobs=1, song_seconds=4.0, render_delay=60)
    first = made_in_background(studio, owner, "Already running")
    wait_until(lambda: Song.objects.filter(transform=first, status=Song.Status.RUNNING).exists(),
               lambda: list(first.songs.values_list("status", "error")))

    ask_professional(page, live_server, studio)
    busy = page.locator("#requests .notice",
                        has_text="The music service is busy with 1 job; this one will start when one finishes.")
    expect(busy).to_have_count(2, timeout=FINISH)


def test_596_shows_staff_the_fix_and_musicians_only_that_the_account_needs_attention(
        page, live_server, studio, stack, admin_user):
    engine = stack("useapi", fault_rate_596=1.0, render_delay=0.3)
    ask_professional(page, live_server, studio)
    expect(page.locator("#requests .song-status .error")).to_have_text(
        [FAILURE_MESSAGES[Failure.ACCOUNT]] * 2, timeout=FINISH)
    page.reload()
    expect(page.locator("#requests .song-status .error")).to_have_count(2)
    expect(page.get_by_text("Upstream needs attention")).to_have_count(0)
    expect(page.get_by_role("link", name="How to fix the music service account, step by step")).to_have_count(0)
    assert page.goto(f"{live_server.url}/upstream/attention/").status == 403

    page.context.clear_cookies()
    log_in(page, live_server, admin_user.username, "password")
    banner = page.locator(".banner-alert")
    expect(banner).to_contain_text("Upstream needs attention")
    expect(banner).to_contain_text(f"POST {engine.url}/v1/riffusion/accounts")
    banner.get_by_role("link", name="How to fix the music service account, step by step").click()
    page.wait_for_url(f"{live_server.url}/upstream/attention/")
    expect(page.get_by_role("heading", name="An account error (HTTP 596): step by step")).to_be_visible()
    expect(page.locator("ol.steps")).to_contain_text(f"POST {engine.url}/v1/riffusion/accounts")


def test_open_section_markers_are_sent_without_an_error(page, live_server, studio):
    lyrics = "[Pre-Chorus]\nHold the rope\n[Drop]\n[Chorus x2]\nHome by the tide\n[Gang Shout]\nHey"
    ask_professional(page, live_server, studio, lyrics=lyrics)
    expect(page.locator("#requests .song")).to_have_count(2)
    # Only the name the service is not known to follow gets a hint; nothing is refused.
    expect(page.locator("[data-hint]")).to_have_count(1)
    expect(page.locator("[data-hint]")).to_contain_text("[Gang Shout] is not a section")
    expect(page.locator("#transform-form .errorlist")).to_have_count(0)
    assert Transform.objects.get(project=studio).lyrics == lyrics


def test_the_seed_on_a_dialect_b_extend_is_shown_on_the_new_request(page, live_server, studio, owner, stack):
    stack("useapi", song_seconds=4.0, render_delay=0.3)
    source_request = made_in_background(studio, owner, "Harbour")
    wait_until(lambda: all(s.status == Song.Status.DONE for s in Song.objects.filter(transform=source_request)),
               lambda: list(source_request.songs.values_list("status", "error")))
    source = source_request.songs.get(variant=0)

    page.goto(f"{live_server.url}{source.get_absolute_url()}?mode=extend")
    page.get_by_label("Extend from (seconds)").fill("2")
    page.get_by_label("Seed").fill("4321")
    page.get_by_role("button", name="Make two variants").click()
    link = page.locator("#transform-form .created-songs a").first
    link.click()
    page.wait_for_url("**/songs/*/")
    assert "Seed\n4321" in page.locator("[data-params]").inner_text()
    assert Transform.objects.get(mode="extend").seed == 4321
