"""A musician's first session: log in, make a project, generate, listen, seek, download."""

import pytest

from riffweb.audio import decode
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration


def test_a_professional_request_gives_two_playable_songs(page, live_server, owner, stack, tmp_path):
    stack()
    log_in(page, live_server, owner.username, PASSWORD)

    page.get_by_label("Name").fill("Late shift")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/*/")
    assert page.get_by_role("heading", name="Late shift").is_visible()

    page.get_by_label("Title").fill("Neon rain")
    page.get_by_label("Lyrics").fill("[Verse]\nCity lights in the rain\n[Chorus]\nDrive all night")
    page.get_by_label("Style tags").fill("synthwave, dreamy")
    page.get_by_role("button", name="Generate two variants").click()

    cards = page.locator("#requests .song")
    cards.first.wait_for()
    assert cards.count() == 2
    assert page.locator("#requests progress").count() == 2

    players = page.locator("#requests audio")
    players.nth(1).wait_for(timeout=60_000)
    assert players.count() == 2
    assert page.locator("#requests .duration").first.inner_text().endswith(" s")

    player = players.first
    player.evaluate("audio => audio.play()")
    page.wait_for_function(
        "audio => audio.currentTime > 0.5", arg=player.element_handle(), timeout=15_000
    )
    duration = player.evaluate("audio => audio.duration")
    target = round(duration * 0.6, 1)
    player.evaluate(f"audio => {{ audio.currentTime = {target}; }}")
    page.wait_for_function(
        f"audio => audio.currentTime >= {target} && audio.readyState >= 2",
        arg=player.element_handle(),
    )

    with page.expect_download() as download_info:
        page.locator("#requests .song").first.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("neon-rain-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert decode(saved).duration == pytest.approx(duration, abs=0.2)
