"""Every mode through the real UI, against the local engine and a real worker cluster.

Each test fills a form the way a musician would, submits it, and waits until both variants are
done and drawn as waveforms; transforms then check that the new song's page links to its source
and shows the parameters, and the inpaint range is set by dragging across the waveform.
"""

import pytest

from riffweb.studio.models import Project, Song, Transform, Upload
from tests.browser.conftest import log_in
from tests.cluster import wait_for
from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration

FINISH = 90_000  # ms: a request's two variants rendered, downloaded and drawn


@pytest.fixture
def studio(page, live_server, owner):
    project = Project.create_for(owner, name="Harbour lights")
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    return project


def wait_for_variants_on_song_page(page):
    """On a song page: both variants done and drawn as waveform players."""
    page.locator(".variants [data-player][data-ready]").nth(1).wait_for(timeout=FINISH)
    assert page.locator(".variants [data-player]").count() == 2


def open_first_new_song(page):
    link = page.locator("#transform-form .created-songs a").first
    link.wait_for()
    link.click()
    page.wait_for_url("**/songs/*/")
    wait_for_variants_on_song_page(page)


def choose_tab(page, name: str):
    """Open a mode's tab and wait until htmx has swapped in its form."""
    old = page.locator("#transform-form").element_handle()
    page.locator("#transform-form nav").get_by_role("link", name=name, exact=True).click()
    page.wait_for_function("panel => !panel.isConnected", arg=old)
    page.locator('#transform-form nav [aria-current="page"]', has_text=name).wait_for()


def waveform_box(page, song: Song):
    waveform = page.locator(f"#song-{song.pk} [data-waveform]")
    waveform.scroll_into_view_if_needed()
    box = waveform.bounding_box()
    assert box and box["width"] > 100
    return box


def test_inspiration_and_the_five_transforms_end_to_end(page, live_server, studio, stack):
    stack("riffusion")

    # Inspiration: just a theme.
    choose_tab(page, "Inspiration")
    page.get_by_label("Theme").fill("a lighthouse keeper who learns to dance")
    page.get_by_role("button", name="Generate two variants").click()
    page.locator("#requests audio").nth(1).wait_for(timeout=FINISH)
    source = Song.objects.get(transform__mode="inspiration", variant=0)
    assert source.status == Song.Status.DONE
    # Stored from the MP3's frame headers; a task draws the waveform's peaks right after.
    wait_for(lambda: Song.objects.get(pk=source.pk).peaks, 60, message="the source song's peaks")

    # Its page: both variants side by side, drawn from stored peaks; space bar and A/B.
    page.goto(f"{live_server.url}{source.get_absolute_url()}")
    wait_for_variants_on_song_page(page)
    page.locator("h1").click()
    page.keyboard.press("Space")
    page.wait_for_function("() => window.riffwebPlayers.get('song-%d').ws.getCurrentTime() > 0.3" % source.pk)
    page.get_by_role("button", name="Switch A/B at the same moment").click()
    other = source.transform.songs.get(variant=1)
    at = page.evaluate("() => window.riffwebPlayers.get('song-%d').ws.getCurrentTime()" % other.pk)
    assert at > 0.3
    assert page.evaluate("() => window.riffwebPlayers.get('song-%d').ws.isPlaying()" % source.pk) is False
    page.keyboard.press("Space")  # pauses variant B, the one now playing
    page.wait_for_function("() => !window.riffwebPlayers.get('song-%d').ws.isPlaying()" % other.pk)

    # Cover, with its sliders: cover strength is cover's alone.
    choose_tab(page, "Extend")
    assert page.get_by_label("Cover strength").count() == 0
    choose_tab(page, "Cover")
    page.get_by_label("New title").fill("Keeper's waltz")
    page.get_by_label("Cover strength").fill("0.8")
    page.get_by_role("button", name="Make two variants").click()
    open_first_new_song(page)
    assert page.locator("[data-source-link]").get_attribute("href") == source.get_absolute_url()
    params = page.locator("[data-params]").inner_text()
    assert "Cover" in params and "Cover strength\n0.8" in params

    # Extend: the very start is refused next to its field; a click on the waveform sets the point.
    page.goto(f"{live_server.url}{source.get_absolute_url()}?mode=extend")
    wait_for_variants_on_song_page(page)
    page.get_by_label("Extend from (seconds)").fill("0")
    page.get_by_role("button", name="Make two variants").click()
    page.locator("#id_extend_at-error").get_by_text("Choose a point inside the song").wait_for()
    box = waveform_box(page, source)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    extend_at = float(page.get_by_label("Extend from (seconds)").input_value())
    assert extend_at == pytest.approx(source.duration * 0.5, abs=1.5)
    page.get_by_role("button", name="Make two variants").click()
    open_first_new_song(page)
    assert page.locator("[data-source-link]").get_attribute("href") == source.get_absolute_url()
    assert page.locator('[data-param="extend_at"]').inner_text() == f"{extend_at:.1f} s"

    # Inpaint: drag across the waveform; the fields follow, and typing moves the region.
    page.goto(f"{live_server.url}{source.get_absolute_url()}")
    wait_for_variants_on_song_page(page)
    choose_tab(page, "Inpaint")
    box = waveform_box(page, source)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    start = float(page.get_by_label("Replace from (seconds)").input_value())
    end = float(page.get_by_label("Replace until (seconds)").input_value())
    slack = max(1.5, source.duration * 0.04)  # a few pixels of drag threshold
    assert start == pytest.approx(source.duration * 0.2, abs=slack)
    assert end == pytest.approx(source.duration * 0.6, abs=slack)
    page.get_by_label("Replace until (seconds)").fill(f"{end + 1:.1f}")
    region_end = page.evaluate(
        "() => window.riffwebPlayers.get('song-%d').regions.getRegions()[0].end" % source.pk)
    assert region_end == pytest.approx(end + 1, abs=0.05)
    page.get_by_role("button", name="Make two variants").click()
    open_first_new_song(page)
    inpaint = Transform.objects.get(mode="inpaint")
    assert (inpaint.source_song_id, inpaint.replace_start, inpaint.replace_end) == (
        source.pk, start, round(end + 1, 1))
    assert page.locator('[data-param="replace"]').inner_text() == f"{start:.1f} s – {end + 1:.1f} s"

    # Swap vocals and swap sound.
    for tab, words in (("Swap vocals", {"Lyrics": "[Verse]\nNew voice, same tune"}),
                       ("Swap sound", {"Style tags": "lofi, tape hiss"})):
        page.goto(f"{live_server.url}{source.get_absolute_url()}")
        wait_for_variants_on_song_page(page)
        choose_tab(page, tab)
        for label, value in words.items():
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Make two variants").click()
        open_first_new_song(page)
        assert page.locator("[data-source-link]").get_attribute("href") == source.get_absolute_url()
        assert tab in page.locator("[data-params]").inner_text()

    # The source's family tree now holds every transform, each a link.
    page.goto(f"{live_server.url}{source.get_absolute_url()}")
    family = page.locator(".family").inner_text()
    for mode in ("Cover", "Extend", "Inpaint", "Swap vocals", "Swap sound"):
        assert mode in family
    assert Song.objects.filter(status=Song.Status.DONE).count() == 12

    # Start in Inspiration, refine in Professional: the form holds what the service wrote.
    source.refresh_from_db()
    assert source.title and source.lyrics
    page.get_by_role("link", name="Refine in Professional").click()
    page.wait_for_url("**/projects/*/?mode=professional&refine=*")
    assert page.get_by_label("Title", exact=True).input_value() == source.title
    assert page.get_by_label("Lyrics", exact=True).input_value() == source.lyrics


def test_compose_with_ranged_prompts_end_to_end(page, live_server, studio, stack):
    stack("useapi")
    choose_tab(page, "Compose")
    page.get_by_label("Lyrics", exact=True).fill("[Verse]\nSalt on the wire\n[Chorus]\nHold the line")
    page.get_by_label("Sound prompt 1", exact=True).fill("warm analog synths")
    page.get_by_label("Sound prompt 2", exact=True).fill("brushed drums")
    # Drag prompt 2's bar: from its right end (100%) back to 60% of the song.
    bar = page.locator("[data-range-track]").nth(1)
    bar.scroll_into_view_if_needed()
    track = bar.bounding_box()
    y = track["y"] + track["height"] / 2
    page.mouse.move(track["x"] + track["width"] - 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * 0.6, y, steps=6)
    page.mouse.up()
    assert page.get_by_label("Prompt 1 strength").get_attribute("min") == "0.2"  # the service takes 20–100
    page.get_by_label("Seed").fill("1234")
    page.get_by_role("button", name="Generate two variants").click()
    page.locator("#requests audio").nth(1).wait_for(timeout=FINISH)
    compose = Transform.objects.get(mode="compose")
    assert compose.seed == 1234
    assert [p["text"] for p in compose.prompts] == ["warm analog synths", "brushed drums"]
    assert compose.prompts[1]["end"] == pytest.approx(0.6, abs=0.03)
    assert all(s.status == Song.Status.DONE for s in compose.songs.all())


def test_an_upload_is_processed_and_transformed(page, live_server, studio, stack, tmp_path):
    import numpy as np

    from riffweb.audio import encode_mp3

    stack("riffusion")
    rate = 44100
    t = np.arange(rate * 8) / rate
    wave = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) / 2).astype(np.float32)
    path = tmp_path / "hum.mp3"
    path.write_bytes(encode_mp3(np.stack([wave, wave], axis=1), rate))

    choose_tab(page, "Upload")
    page.get_by_label("Audio file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/uploads/*/")
    page.get_by_text("Ready: choose a transform below.").wait_for(timeout=FINISH)
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.READY and upload.duration == pytest.approx(8, abs=0.2)
    page.locator("[data-player][data-ready]").wait_for()

    choose_tab(page, "Cover")
    page.get_by_role("button", name="Make two variants").click()
    open_first_new_song(page)
    assert page.locator("[data-source-link]").get_attribute("href") == upload.get_absolute_url()
