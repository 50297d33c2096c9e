"""Two members review one song in two browsers: one comments on a region by dragging across
the waveform, the other sees its marker appear within one poll and replies, the reply reaches
the first without a reload with her inbox count, and from the inbox she opens "Inpaint this
region" with the range filled."""

import re

import pytest
from playwright.sync_api import expect

from riffweb.review.models import Comment
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, add_member, finish_song, make_request

POLL = 10_000  # a poll every 2 s: generous for a loaded CI machine


@pytest.fixture
def reviewed(transactional_db, project, owner):
    song = finish_song(make_request(project, owner, title="Harbour lights").songs.get(variant=0), seconds=10.0)
    song.peaks = [0.5] * 200  # drawn at once, as stored songs are
    song.save(update_fields=["peaks"])
    add_member(project, "vera", "viewer")
    return song


def markers(page, song):
    return page.locator(f'#song-{song.pk} [data-player][data-key="song-{song.pk}"]')


def test_two_members_review_a_region_live_and_start_an_inpaint_from_it(browser, page, live_server, owner, reviewed):
    song = reviewed
    url = f"{live_server.url}{song.get_absolute_url()}"
    other = browser.new_context()
    vera = other.new_page()
    vera.set_default_timeout(15_000)
    try:
        log_in(vera, live_server, "vera", PASSWORD)
        vera.goto(url)
        expect(markers(vera, song)).to_have_attribute("data-markers", "0", timeout=POLL)

        log_in(page, live_server, owner.username, PASSWORD)
        page.goto(url)
        expect(markers(page, song)).to_have_attribute("data-markers", "0", timeout=POLL)
        waveform = page.locator(f"#song-{song.pk} [data-waveform]")
        waveform.scroll_into_view_if_needed()
        box = waveform.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.2, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
        page.mouse.up()
        at = float(page.get_by_label("At (seconds)").input_value())
        end = float(page.get_by_label("Until (seconds, for a part)").input_value())
        assert at == pytest.approx(2.0, abs=0.8) and end == pytest.approx(6.0, abs=0.8)
        page.locator("[data-comment-form]").get_by_label("Comment").fill("The bass gets muddy here, see 0:04")
        page.get_by_role("button", name="Comment", exact=True).click()
        expect(page.locator(f"#comment-list-{song.pk}")).to_contain_text("The bass gets muddy here")
        expect(markers(page, song)).to_have_attribute("data-markers", "1")

        # The other member's open page shows it within one poll: the list and the marker.
        expect(vera.locator(f"#comment-list-{song.pk}")).to_contain_text("The bass gets muddy here", timeout=POLL)
        expect(markers(vera, song)).to_have_attribute("data-markers", "1", timeout=POLL)
        comment = Comment.objects.get()
        assert (comment.at, comment.end) == (at, end)
        vera.locator(f"#comment-{comment.pk} a.seek", has_text="0:04").click()
        assert vera.evaluate(
            "key => window.riffwebPlayers.get(key).ws.getCurrentTime()", f"song-{song.pk}") == pytest.approx(4, abs=0.1)
        assert vera.locator("[data-transform-from-comment]").count() == 0  # a viewer transforms nothing
        vera.locator(f"#comment-{comment.pk} summary", has_text="Reply").click()
        vera.get_by_label("Your reply").fill("Agreed, @olivia: try inpainting it")
        vera.get_by_role("button", name="Send reply").click()
        expect(vera.locator(f"#comment-{comment.pk} .replies")).to_contain_text("Agreed")

        # The reply reaches the first page without a reload; its mention of her is marked.
        expect(page.locator(f"#comment-{comment.pk} .replies")).to_contain_text("try inpainting it", timeout=POLL)
        expect(page.locator(f"#comment-{comment.pk} .replies .mention")).to_have_text("@olivia")

        # Her inbox count goes up on the same poll; the inbox leads back to the comment.
        expect(page.locator("#inbox-link")).to_contain_text("1 unread", timeout=POLL)
        page.locator("#inbox-link").click()
        page.get_by_role("button", name=re.compile("You were mentioned")).click()
        page.wait_for_url(f"**{song.get_absolute_url()}#comment-*")
        expect(page.locator("#inbox-link")).not_to_contain_text("unread")
        page.locator(f"#comment-{comment.pk}").get_by_role("link", name="Inpaint this region").click()
        expect(page.get_by_label("Replace from (seconds)")).to_have_value(f"{at:.1f}")
        expect(page.get_by_label("Replace until (seconds)")).to_have_value(f"{end:.1f}")
        expect(page.locator("[data-answering]")).to_contain_text("Answering olivia’s comment")
        region = page.evaluate("key => window.riffwebPlayers.get(key).regions.getRegions().map(r => [r.start, r.end])",
                               f"song-{song.pk}")
        assert region == [[pytest.approx(at, abs=0.05), pytest.approx(end, abs=0.05)]]
    finally:
        other.close()
