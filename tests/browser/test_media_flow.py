"""Listening while a song is made: the card plays the part made so far, keeps playing through
the status poll's swaps, then shows the stored song with its cover art."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration


def wait_until(page, check, timeout_ms=15_000):
    for _ in range(timeout_ms // 250):
        if check():
            return
        page.wait_for_timeout(250)
    raise AssertionError("the player never got there")


def test_a_card_plays_a_preview_while_generating_then_the_song_and_its_cover(page, live_server, owner, project, stack):
    # Long enough that a loaded machine still sees a progress swap before the song is stored.
    stack(render_delay=20.0, song_seconds=5.0)
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    page.get_by_label("Title").fill("Neon rain")
    page.get_by_label("Lyrics").fill("[Verse]\nCity lights in the rain")
    page.get_by_label("Style tags").fill("synthwave")
    page.get_by_role("button", name="Generate two variants").click()

    preview = page.locator("#requests .song-preview audio").first
    expect(preview).to_be_visible(timeout=60_000)
    expect(page.locator("#requests progress").first).to_be_visible()  # still being made
    assert "/so-far/" in preview.get_attribute("src")
    preview.evaluate("audio => { audio.dataset.mark = 'first'; audio.play(); }")
    wait_until(page, lambda: preview.evaluate("audio => audio.currentTime") > 0.5)

    # Progress swaps the card's status every poll; the same <audio> plays on.
    swaps = page.locator("#requests .percent").first
    before = swaps.inner_text()
    wait_until(page, lambda: swaps.inner_text() != before)
    assert preview.evaluate("audio => audio.dataset.mark") == "first"
    assert preview.evaluate("audio => !audio.paused && audio.currentTime > 0.5")

    card = page.locator("#requests .song").first
    expect(card.locator("img.cover")).to_be_visible(timeout=60_000)
    expect(card.locator(".duration")).to_be_visible()
    expect(card.locator(".song-preview")).to_have_count(0)
    assert card.locator("img.cover").evaluate("img => img.complete && img.naturalWidth") == 256
    expect(card.locator(".song-style")).to_contain_text("synthwave")
    song_audio = card.locator("audio")
    assert "/audio/" in song_audio.get_attribute("src")
