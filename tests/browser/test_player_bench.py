"""The player as an instrument, at desktop size and at phone size with touch: drag a loop and hear
it hold on both variants across the A/B switch, change speed while playing, every shortcut, the
section lane (loop one, send one to inpaint) and tap to seek. Screenshots are kept as artefacts in
$RIFFWEB_SCREENSHOTS (or the test's tmp_path)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, finish_song, make_request

SECONDS = 20.0
BPM = 120.0  # a 2 s bar
SECTIONS = [{"kind": "intro", "start": 0, "end": 4.0}, {"kind": "verse", "start": 4.0, "end": 12.0},
            {"kind": "chorus", "start": 12.0, "end": 20.0}]
SLACK = 0.35  # s: a frame or two past the loop's end before the jump back, plus MP3/WAV padding

# Counts each player's jumps back (currentTime going down while playing) and the latest time
# seen, on every animation frame: what a listener would hear, independent of test timing.
WATCH = """() => {
  window.heard = {};
  const tick = () => {
    for (const [key, p] of window.riffwebPlayers) {
      const h = window.heard[key] ||= {wraps: 0, last: 0, max: 0};
      const t = p.ws.getCurrentTime();
      if (p.ws.isPlaying()) {
        if (t < h.last - 0.5) h.wraps += 1;
        h.max = Math.max(h.max, t);
      }
      h.last = t;
    }
    requestAnimationFrame(tick);
  };
  tick();
}"""


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("RIFFWEB_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def player(key: str, expression: str) -> str:
    return f"() => {{ const p = window.riffwebPlayers.get('{key}'); return {expression}; }}"


def wait_for_time(page, key: str, target: float):
    """The player's playhead reaches `target` (seeks land asynchronously on the media element)."""
    page.wait_for_function(player(key, f"Math.abs(p.ws.getCurrentTime() - {target}) < 0.05"), timeout=5_000)


def drag(page, touch: bool, x0: float, x1: float, y: float):
    """Press and drag: real touch events on the phone (via the DevTools protocol), the mouse otherwise."""
    if not touch:
        page.mouse.move(x0, y)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, y, steps=5)
        page.mouse.move(x1, y, steps=5)
        page.mouse.up()
        return
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for i in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + (x1 - x0) * i / 10, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_loop_ab_speed_shortcuts_sections_and_compose_lanes(browser, live_server, owner, project, transactional_db,
                                                            settings, shots, size):
    settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"  # it takes time-ranged prompts: the Compose tab
    touch = size == "phone"
    viewport = {"width": 390, "height": 844} if touch else {"width": 1280, "height": 800}
    transform = make_request(project, owner)
    a, b = (finish_song(transform.songs.get(variant=v), SECONDS) for v in (0, 1))
    for song in (a, b):
        song.bpm, song.sections = BPM, SECTIONS
        song.save(update_fields=["bpm", "sections"])
    key_a, key_b = f"song-{a.pk}", f"song-{b.pk}"

    context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Policy" in m.text else None)
    try:
        log_in(page, live_server, owner.username, PASSWORD)
        page.goto(f"{live_server.url}{a.get_absolute_url()}")
        page.locator(".variants [data-player][data-ready]").nth(1).wait_for(timeout=30_000)
        page.wait_for_function("() => [...window.riffwebPlayers.values()].every(p => p.ws.getDuration() > 19)")
        # Nothing is wider than the screen.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"] + 1
        page.evaluate(WATCH)

        # Drag across 30%–50% of variant A: that range is the loop, and looping is on.
        waveform = page.locator(f"#song-{a.pk} [data-waveform]")
        waveform.scroll_into_view_if_needed()
        box = waveform.bounding_box()
        y = box["y"] + box["height"] / 2
        drag(page, touch, box["x"] + box["width"] * 0.3, box["x"] + box["width"] * 0.5, y)
        loop_a = page.locator(f"#song-{a.pk} [data-loop]")
        expect(loop_a).to_have_attribute("aria-pressed", "true")
        start, end = page.evaluate(player(key_a, "[p.range.start, p.range.end]"))
        assert start == pytest.approx(SECONDS * 0.3, abs=1.5) and end == pytest.approx(SECONDS * 0.5, abs=1.5)
        page.screenshot(path=shots / f"{size}-loop.png", full_page=True)

        # Play: the playhead comes back to the loop's start instead of running past its end.
        page.locator(f"#song-{a.pk} [data-play]").click()
        page.wait_for_function(f"() => window.heard['{key_a}'].wraps >= 1", timeout=30_000)
        heard = page.evaluate(f"() => window.heard['{key_a}']")
        assert heard["max"] <= end + SLACK, heard

        # B (the key) takes over at the same moment, with the same loop, and it holds there too.
        page.locator("h1").click()
        page.keyboard.press("b")
        page.wait_for_function(player(key_b, "p.ws.isPlaying()"))
        assert page.evaluate(player(key_a, "p.ws.isPlaying()")) is False
        assert page.evaluate(player(key_b, "[p.range.start, p.range.end]")) == pytest.approx([start, end], abs=0.01)
        expect(page.locator(f"#song-{b.pk} [data-loop]")).to_have_attribute("aria-pressed", "true")
        page.wait_for_function(f"() => window.heard['{key_b}'].wraps >= 1", timeout=30_000)
        assert page.evaluate(f"() => window.heard['{key_b}'].max") <= end + SLACK

        # Speed 1.5× with the pitch kept: still playing, and the playhead still moves.
        page.locator(f"#song-{b.pk} [data-speed]").select_option("1.5")
        assert page.evaluate(player(key_b, "[p.ws.getPlaybackRate(), p.ws.getMediaElement().preservesPitch]")) == [1.5, True]
        before = page.evaluate(player(key_b, "p.ws.getCurrentTime()"))
        page.wait_for_function(player(key_b, f"p.ws.isPlaying() && Math.abs(p.ws.getCurrentTime() - {before}) > 0.3"))
        page.locator("h1").click()

        # L: loop off, and playback runs on past the loop's end.
        page.keyboard.press("l")
        expect(page.locator(f"#song-{b.pk} [data-loop]")).to_have_attribute("aria-pressed", "false")
        page.wait_for_function(player(key_b, f"p.ws.getCurrentTime() > {end + 1}"), timeout=30_000)

        # Space pauses; ← and → move 5 s; the bar buttons move one bar (2 s at 120 bpm).
        page.keyboard.press("Space")
        page.wait_for_function(player(key_b, "!p.ws.isPlaying()"))
        at = page.evaluate(player(key_b, "p.ws.getCurrentTime()"))
        page.keyboard.press("ArrowLeft")
        wait_for_time(page, key_b, at - 5)
        page.keyboard.press("ArrowRight")
        wait_for_time(page, key_b, at)
        page.get_by_role("button", name="Back 1 bar").nth(1).click()
        wait_for_time(page, key_b, at - 2)

        # [ and ] put the loop's ends at the playhead.
        page.locator("h1").click()
        page.evaluate("() => window.riffwebPlayer.seek(3)")  # the API other scripts use
        wait_for_time(page, key_b, 3)
        page.keyboard.press("[")
        page.evaluate("() => window.riffwebPlayer.seek(7.5)")
        wait_for_time(page, key_b, 7.5)
        page.keyboard.press("]")
        assert page.evaluate(player(key_b, "[p.range.start, p.range.end]")) == pytest.approx([3, 7.5], abs=0.05)

        # A switches back (paused: stays paused, same moment); space plays A.
        page.keyboard.press("a")
        wait_for_time(page, key_a, 7.5)
        page.keyboard.press("Space")
        page.wait_for_function(player(key_a, "p.ws.isPlaying()"))
        page.keyboard.press("Space")
        page.wait_for_function(player(key_a, "!p.ws.isPlaying()"))

        # ? lists the shortcuts; Escape closes the list.
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Loop on or off")
        page.screenshot(path=shots / f"{size}-shortcuts.png")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        # Typing in a field is just typing: no shortcut fires.
        looping = page.evaluate(player(key_a, "p.looping"))
        text = page.locator("#transform-form").locator("input[type=text], textarea").first
        text.fill("")
        text.type("lab [] ")
        assert page.evaluate(player(key_a, "[p.looping, p.ws.isPlaying()]")) == [looping, False]
        assert page.evaluate(player(key_b, "p.ws.isPlaying()")) is False

        # Tap (or click) to seek, while paused.
        waveform.scroll_into_view_if_needed()
        box = waveform.bounding_box()
        point = (box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
        if touch:
            page.touchscreen.tap(*point)
        else:
            page.mouse.click(*point)
        assert page.evaluate(player(key_a, "p.ws.getCurrentTime()")) == pytest.approx(SECONDS * 0.8, abs=1.5)

        # Sections: loop the chorus; send the verse to inpaint, which opens with its range.
        lane = page.locator(f"#song-{a.pk} [data-sections]")
        expect(lane.locator("[data-section-seek]")).to_have_text(["Intro", "Verse", "Chorus"])
        lane.get_by_role("button", name="Loop chorus 3").click()
        assert page.evaluate(player(key_a, "[p.range.start, p.range.end, p.looping]")) == [12, 20, True]
        page.screenshot(path=shots / f"{size}-sections.png", full_page=True)
        lane.get_by_role("link", name="Inpaint verse 2").click()
        expect(page.get_by_label("Replace from (seconds)")).to_have_value("4.0")
        expect(page.get_by_label("Replace until (seconds)")).to_have_value("12.0")
        page.locator(".variants [data-player][data-ready]").nth(1).wait_for(timeout=30_000)
        page.wait_for_function(player(key_a, "p.range && p.range.start === 4 && p.range.end === 12"))

        # Compose: the three prompts' parts are lanes of one timeline; drag lane 2's end to 60%.
        page.goto(f"{live_server.url}{project.get_absolute_url()}?mode=compose")
        lanes = page.locator("[data-timeline] [data-range-track]")
        expect(lanes).to_have_count(3)
        lane = lanes.nth(1)
        lane.scroll_into_view_if_needed()
        box = lane.bounding_box()
        drag(page, touch, box["x"] + box["width"] - 2, box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
        end_2 = page.locator("fieldset.prompt").nth(1).get_by_label("End")
        assert float(end_2.input_value()) == pytest.approx(0.6, abs=0.03)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"] + 1
        page.screenshot(path=shots / f"{size}-compose.png", full_page=True)

        # The library's bulk actions by tap: tick both variants, tag them.
        page.goto(f"{live_server.url}/library/")
        for song in (a, b):
            tick = page.locator(f"#pick-{song.pk}")
            tick.tap() if touch else tick.click()
            expect(tick).to_be_checked()
        page.get_by_label("With the ticked songs").select_option("tag")
        page.get_by_label("Tag", exact=True).fill("keeper-bars")
        apply = page.get_by_role("button", name="Apply", exact=True)
        apply.tap() if touch else apply.click()
        expect(page.locator(".library-row .labels", has_text="keeper-bars")).to_have_count(2)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"] + 1
        page.screenshot(path=shots / f"{size}-library.png", full_page=True)
    finally:
        context.close()
    assert refused == [], "the page broke its Content-Security-Policy"
