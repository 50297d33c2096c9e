"""Lyrics in the browser: a click on a timed line seeks there and lights it up, picked lines open the
inpaint form with their range, the .lrc downloads; the lyrics field's marker toolbar and counter; and
"Write lyrics for me" filling the field once the worker has written the draft."""

import re

import pytest
from playwright.sync_api import expect

from riffweb import queue
from riffweb.studio.models import LyricsDraft
from riffweb.upstream.lyrics_help import write_lyrics
from tests.browser.conftest import log_in
from tests.cluster import running_engine
from tests.conftest import PASSWORD, finish_song, make_request

LINES = [{"text": "First light", "start": 0.0, "end": 2.0}, {"text": "Second wind", "start": 2.5, "end": 4.0},
         {"text": "Third time", "start": 4.5, "end": 6.0}]


@pytest.fixture
def timed_song(transactional_db, project, owner):
    song = finish_song(make_request(project, owner, title="Harbour lights").songs.get(variant=0), seconds=8)
    song.timed_lyrics = LINES
    song.save(update_fields=["timed_lyrics"])
    return song


def test_a_click_on_a_line_seeks_there_and_picked_lines_fill_the_inpaint_range(page, live_server, owner, timed_song):
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{timed_song.get_absolute_url()}")
    lines = page.locator("[data-timed-lyrics] li")
    expect(lines).to_have_count(3)
    page.get_by_role("button", name="Second wind").click()
    expect(lines.nth(1)).to_have_class(re.compile(r"\bsung\b"))
    expect(lines.nth(0)).not_to_have_class(re.compile(r"\bsung\b"))
    media = page.locator(f'#song-status-{timed_song.pk} [data-media]')
    assert media.evaluate("audio => audio.currentTime") == pytest.approx(2.5, abs=0.05)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download .lrc").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert "[ti:Harbour lights]" in text and "[00:02.50]Second wind" in text

    inpaint = page.get_by_role("link", name="Inpaint these lines")
    expect(inpaint).to_be_hidden()
    page.get_by_label("Choose “First light” for inpaint").check()
    page.get_by_label("Choose “Third time” for inpaint").click(modifiers=["Shift"])  # the run between
    expect(page.get_by_label("Choose “Second wind” for inpaint")).to_be_checked()
    expect(inpaint).to_be_visible()
    inpaint.click()
    expect(page.get_by_label("Replace from (seconds)")).to_have_value("0.0")
    expect(page.get_by_label("Replace until (seconds)")).to_have_value("6.0")


def test_the_toolbar_inserts_markers_and_the_counter_follows_the_limit(page, live_server, owner, project):
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    lyrics = page.locator("textarea[name=lyrics]")
    counter = page.locator("[data-lyrics-count]")
    expect(counter).to_have_text("0 / 3000 characters")
    lyrics.fill("Rain on the window")
    lyrics.press("Home")
    page.get_by_role("button", name="[Verse]").click()
    lyrics.press("End")
    page.get_by_role("button", name="[Chorus]").click()
    expect(lyrics).to_have_value("[Verse]\nRain on the window\n[Chorus]\n")
    expect(counter).to_have_text("36 / 3000 characters")
    lyrics.fill("la " * 950)
    expect(counter).to_have_class(re.compile(r"\bwarning\b"))
    lyrics.fill("la " * 1010)
    expect(counter).to_have_text("3030 / 3000 characters: 30 over the music service's limit")
    expect(counter).to_have_class(re.compile(r"\berror\b"))


def test_write_lyrics_for_me_fills_an_empty_field_and_asks_before_replacing_words(
        page, live_server, owner, project, settings, enqueued):
    with running_engine() as engine:
        settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"
        settings.RIFFWEB_UPSTREAM_URL = engine.url
        log_in(page, live_server, owner.username, PASSWORD)
        page.goto(f"{live_server.url}{project.get_absolute_url()}")
        lyrics = page.locator("textarea[name=lyrics]")

        def ask(idea: str) -> None:
            page.get_by_label("What is the song about?").fill(idea)
            page.get_by_role("button", name="Write lyrics for me").click()
            expect(page.get_by_text(f"Writing lyrics about “{idea}”…")).to_be_visible()
            draft = LyricsDraft.objects.get(prompt=idea)
            assert (queue.WRITE_LYRICS, (draft.pk,)) in enqueued
            assert write_lyrics(draft.pk) == "done"  # the worker's task, run here

        ask("harbour lights at night")
        expect(lyrics).to_have_value(re.compile(r"^\[Verse\]\n.*harbour", re.S))
        expect(page.get_by_text("These lyrics are now in the lyrics field")).to_be_visible()

        lyrics.fill("My own words")
        ask("snow over the city")
        use = page.get_by_role("button", name="Use these lyrics")
        expect(use).to_be_visible()
        expect(lyrics).to_have_value("My own words")
        use.click()
        expect(lyrics).to_have_value(re.compile(r"^\[Verse\]\n.*(snow|city)", re.S))
