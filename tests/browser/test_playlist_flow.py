"""Takes and playlists in a browser: a vote cast on a card shows in the tally; a playlist is built
(from a song's page and from the library), reordered by keyboard and by drag, and played through
a guest link in a browser without an account, where the queue moves on to the next song by itself;
the server keeps where the member stopped and the page offers to resume there."""

import re

import pytest
from playwright.sync_api import expect
from django.urls import reverse

from riffweb.playlists.models import Playlist
from riffweb.studio.models import Song
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, finish_song, make_request

TIMEOUT = 20_000


@pytest.fixture
def songs(transactional_db, project, owner):
    # Charlie is short, so that the guest's queue soon moves on; Bravo long enough to pause in.
    made = [finish_song(make_request(project, owner, title=title).songs.get(variant=0), seconds=seconds)
            for title, seconds in (("Alpha", 1.0), ("Bravo", 4.0), ("Charlie", 1.0))]
    Song.objects.filter(variant=1).delete()  # one take per request keeps the pages short
    return made


def order(page) -> list[str]:
    return page.locator("#playlist-entries [data-queue-item]").evaluate_all(
        "items => items.map(item => item.dataset.title.split(' ')[0])")


def test_a_playlist_is_built_reordered_and_played_through_a_guest_link(browser, page, live_server, owner,
                                                                      project, songs):
    alpha, bravo, charlie = songs
    log_in(page, live_server, owner.username, PASSWORD)

    # A vote on a card shows in its tally and as my pressed mark.
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    take = page.locator(f"#take-{alpha.pk}")
    expect(take).to_contain_text("0 keepers", timeout=TIMEOUT)
    take.get_by_role("button", name="Keeper").click()
    expect(page.locator(f"#take-{alpha.pk}")).to_contain_text("1 keeper ·", timeout=TIMEOUT)
    expect(page.locator(f"#take-{alpha.pk}").get_by_role("button", name="Keeper")).to_have_attribute(
        "aria-pressed", "true")

    # A playlist, Alpha added from its song page, Bravo and Charlie from the library.
    page.get_by_role("link", name="Playlists").click()
    page.get_by_label("Playlist name").fill("Gig")
    page.get_by_role("button", name="Make playlist").click()
    expect(page.get_by_role("heading", name="Gig")).to_be_visible(timeout=TIMEOUT)
    page.goto(f"{live_server.url}{alpha.get_absolute_url()}")
    page.get_by_label("Add variant A to playlist").select_option(label="Gig")
    page.get_by_role("button", name="Add to playlist").click()
    expect(page.get_by_text("Added “Alpha” to Gig.")).to_be_visible(timeout=TIMEOUT)
    page.goto(f"{live_server.url}{reverse('library:song_list')}")
    for song in (bravo, charlie):
        page.locator(f"#pick-{song.pk}").check()
    page.get_by_label("With the ticked songs").select_option("playlist")
    page.get_by_label("Playlist", exact=True).select_option(label="Gig (Night drive)")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_text("Added 2 song(s) to Gig.")).to_be_visible(timeout=TIMEOUT)

    page.goto(f"{live_server.url}{reverse('playlists:playlist_list', args=[project.pk])}")
    page.get_by_role("link", name="Gig").click()
    expect(page.locator("#playlist-entries [data-queue-item]")).to_have_count(3, timeout=TIMEOUT)
    assert order(page) == ["Alpha", "Bravo", "Charlie"]

    # By keyboard: Alpha one step down; focus stays on the list's buttons.
    page.get_by_role("button", name="Move down Alpha A").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#playlist-entries [data-queue-item]").first).to_have_attribute(
        "data-title", re.compile("^Bravo"), timeout=TIMEOUT)
    assert order(page) == ["Bravo", "Alpha", "Charlie"]
    expect(page.get_by_role("button", name="Move down Alpha A")).to_be_focused(timeout=TIMEOUT)

    # By drag: Charlie to the top.
    items = page.locator("#playlist-entries [data-queue-item]")
    with page.expect_response(lambda r: r.url.endswith(f"/playlists/{Playlist.objects.get().pk}/order/")) as sent:
        items.nth(2).drag_to(items.nth(0), target_position={"x": 20, "y": 4})
    assert sent.value.status == 200
    expect(page.locator("#playlist-entries [data-queue-item]").first).to_have_attribute(
        "data-title", re.compile("^Charlie"), timeout=TIMEOUT)
    page.reload()
    expect(page.locator("#playlist-entries [data-queue-item]")).to_have_count(3, timeout=TIMEOUT)
    assert order(page) == ["Charlie", "Bravo", "Alpha"]  # stored, not only moved on the page

    # Where I stopped is kept on the server (the page posts it on pause, CSRF token and all), and
    # the page offers to go on from there.
    page.get_by_role("button", name="Play Bravo").click()
    audio = page.locator("[data-queue-audio]")
    page.wait_for_function("audio => audio.currentTime > 0.2 && !audio.paused", arg=audio.element_handle(),
                           timeout=TIMEOUT)
    with page.expect_response(lambda r: r.url.endswith("/position/")) as kept:
        audio.evaluate("audio => audio.pause()")
    assert kept.value.status == 204
    page.reload()
    page.get_by_role("button", name=re.compile("^Resume at 0:00 in “Bravo”")).click()
    expect(page.locator("[data-queue-now]")).to_have_text(re.compile("^Bravo"), timeout=TIMEOUT)

    # A guest link, opened in a browser with no account: the queue plays in the team's order and
    # moves on to the next song when one ends.
    page.get_by_role("button", name="Create guest link").click()
    guest_url = page.get_by_label("Playlist guest link 1").input_value()
    guest_context = browser.new_context()
    guest = guest_context.new_page()
    guest.set_default_timeout(TIMEOUT)
    try:
        guest.goto(guest_url)
        expect(guest.get_by_role("heading", name="Gig")).to_be_visible()
        guest.get_by_role("button", name="Play Charlie").click()
        now = guest.locator("[data-queue-now]")
        expect(now).to_have_text(re.compile("^Charlie"))
        expect(now).to_have_text(re.compile("^Bravo"), timeout=TIMEOUT)  # Charlie (1 s) ended
        audio = guest.locator("[data-queue-audio]")
        assert f"/songs/{bravo.pk}/audio/" in audio.get_attribute("src")
        guest.wait_for_function("audio => audio.currentTime > 0.1 || audio.ended", arg=audio.element_handle(),
                                timeout=TIMEOUT)
        guest.get_by_role("button", name="Previous").click()
        expect(now).to_have_text(re.compile("^Charlie"))
    finally:
        guest_context.close()
