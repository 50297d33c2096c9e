"""The library in a browser: the list follows the search without a reload, the URL keeps the
filters, and ticked songs download as one zip."""

import json
import zipfile

import pytest
from playwright.sync_api import expect
from django.urls import reverse

from riffweb.studio.models import Song
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, finish_song, make_request


@pytest.fixture
def songs(transactional_db, project, owner):
    made = []
    for title, lyrics in [("Moon river", "[Verse]\nsilver moon"), ("Desert heat", "[Verse]\nsand"),
                          ("Harbour lights", "[Verse]\nships")]:
        made.append(finish_song(make_request(project, owner, title=title, lyrics=lyrics).songs.get(variant=0)))
    return made


def test_search_updates_the_list_in_place_and_the_url_keeps_it(page, live_server, owner, songs, tmp_path):
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{reverse('library:song_list')}")
    rows = page.locator("#song-list .library-row")
    assert rows.count() == 6
    page.evaluate("window.marker = 'same page'")

    page.get_by_label("Search").fill("moon")
    page.wait_for_url("**/library/?*q=moon*")
    expect(page.locator("#song-list .library-row")).to_have_count(2)
    assert page.evaluate("window.marker") == "same page"  # htmx swapped the list; no reload
    assert "Moon river" in page.locator("#song-list").inner_text()

    page.reload()
    assert page.get_by_label("Search").input_value() == "moon"
    assert rows.count() == 2

    page.get_by_label("Search").fill("")
    expect(page.locator("#song-list .library-row")).to_have_count(6)
    page.get_by_label("Status").select_option("done")
    page.wait_for_url("**/library/?*status=done*")
    expect(page.locator("#song-list .library-row")).to_have_count(3)
    page.get_by_label("Select Moon river variant A").check()
    page.get_by_label("Select Desert heat variant A").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download as zip").click()
    saved = tmp_path / "songs.zip"
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        sidecars = [json.loads(archive.read(n)) for n in archive.namelist() if n.endswith(".json")]
        assert sum(n.endswith(".wav") for n in archive.namelist()) == 2, archive.namelist()
    assert sorted(s["title"] for s in sidecars) == ["Desert heat", "Moon river"]

    # A row's one-click action posts the page's one row-actions form (no form per row): the
    # favourite swaps its row in place, and the same list (filters kept) shows it after a reload.
    page.evaluate("window.marker = 'before favourite'")
    row = page.locator("#song-list .library-row", has_text="Harbour lights")
    row.get_by_role("button", name="☆ Add to favourites").click()
    expect(row.get_by_role("button", name="★ Favourite")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.marker") == "before favourite"  # htmx swapped the row; no navigation
    page.reload()
    expect(page.locator("#song-list .library-row", has_text="Harbour lights").get_by_role(
        "button", name="★ Favourite")).to_be_visible(timeout=10_000)
    assert Song.objects.get(pk=songs[2].pk).favourited_by.filter(pk=owner.pk).exists()

    # A mark from a row swaps only that row's take in place (its buttons post the row-actions
    # form; the take's box is their target), and stays after a reload.
    page.evaluate("window.marker = 'before mark'")
    take = page.locator(f"#take-{songs[1].pk}")
    take.get_by_role("button", name="Keeper").click()
    expect(take).to_contain_text("1 keeper ·", timeout=10_000)
    expect(take.get_by_role("button", name="Keeper")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.marker") == "before mark"
    expect(page.locator("#song-list .library-row")).to_have_count(3)
    expect(page.locator(f"#take-{songs[1].pk}")).to_have_count(1)
    page.reload()
    expect(page.locator(f"#take-{songs[1].pk}")).to_contain_text("1 keeper ·", timeout=10_000)
