"""One journey through the arranger and palettes in Chromium: a three-region arrangement built from
two songs on the page, previewed, rendered by a real worker cluster, and played; then a palette
applied to the compose form with one click."""

import pytest
from playwright.sync_api import expect

from riffweb import audio
from riffweb.studio.models import Palette, Song
from tests.browser.conftest import log_in
from tests.cluster import running_qcluster, wait_for
from tests.conftest import PASSWORD
from tests.studio.test_arranger import MP3_SLACK, song_with, sweep, tone

pytestmark = pytest.mark.integration
WAIT = 30_000  # ms: generous, the machine is shared


def add_region(page, song_label: str, start: str, end: str, crossfade: str = "0"):
    page.get_by_label("Song", exact=True).select_option(label=song_label)
    page.get_by_label("Start (seconds)").fill(start)
    page.get_by_label("End (seconds)").fill(end)
    page.get_by_label("Crossfade with the region before (seconds)").fill(crossfade)
    page.get_by_role("button", name="Add region").click()


def test_build_preview_render_and_play_an_arrangement_then_apply_a_palette(
        transactional_db, page, live_server, owner, project, settings):
    settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"  # a dialect with compose, for the palette
    song_with(project, owner, sweep(6.0), "Chirp")
    song_with(project, owner, tone(5.0, 330, 0.05), "Hum")
    Palette.objects.create(project=project, name="Dusk", weirdness=0.3,
                           prompts=[{"text": "vinyl crackle", "strength": 0.65, "start": 0.1, "end": 0.6}])
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    page.get_by_label("Arrangement name").fill("Best bits")
    page.get_by_role("button", name="New arrangement").click()
    expect(page.get_by_role("heading", name="Arrangement “Best bits”")).to_be_visible(timeout=WAIT)

    add_region(page, "Chirp · A (6.0 s)", "1", "3")
    add_region(page, "Hum · A (5.0 s)", "0.5", "3", "0.5")
    add_region(page, "Chirp · A (6.0 s)", "3", "5", "1")
    expect(page.locator("[data-region]")).to_have_count(3, timeout=WAIT)
    expect(page.locator("[data-length]")).to_have_text("5.00 s")

    page.get_by_role("button", name="Preview in the browser").click()
    expect(page.locator("[data-preview-status]")).to_have_text("Playing the preview…", timeout=WAIT)
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("[data-preview-status]")).to_have_text("Stopped.")

    with running_qcluster() as cluster:
        page.get_by_role("button", name="Render as a new song").click()
        expect(page.get_by_text("Mixing “Best bits”")).to_be_visible(timeout=WAIT)
        song = Song.objects.get(transform__arrangement__name="Best bits")
        wait_for(lambda: Song.objects.get(pk=song.pk).is_finished, 60, message=f"the mix\n{cluster.log}")
    song.refresh_from_db()
    assert song.status == Song.Status.DONE, (song.error, song.error_detail)
    assert audio.probe(song.audio.path)[0] == pytest.approx(5.0, abs=MP3_SLACK)

    page.goto(f"{live_server.url}{song.get_absolute_url()}")
    expect(page.get_by_role("list", name="Regions mixed").get_by_role("listitem")).to_have_count(3, timeout=WAIT)
    player = page.locator("audio").first
    player.wait_for(state="attached", timeout=WAIT)
    player.evaluate("audio => audio.play()")
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.3", timeout=WAIT)

    page.goto(f"{live_server.url}{project.get_absolute_url()}?mode=compose")
    page.get_by_role("link", name="Apply “Dusk”").click()
    expect(page.get_by_text("Filled from the palette “Dusk”.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Sound prompt 1", exact=True)).to_have_value("vinyl crackle")
