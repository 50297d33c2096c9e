"""A dialect B song's page: "Download WAV" → "Preparing WAV…" → a link that downloads the WAV,
fetched by the real worker cluster from the engine."""

import time

from playwright.sync_api import expect

from riffweb import audio, queue
from riffweb.studio.models import Song, Transform
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, make_request


def test_download_wav_prepares_then_downloads_a_wav(page, live_server, stack, transactional_db, project, owner, tmp_path):
    stack("useapi", song_seconds=5.0, render_delay=0.3)
    transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}],
                             dialect="useapi", model="FUZZ-0.8", title="Tide")
    queue.submit_request(transform.pk)
    song = transform.songs.get(variant=0)
    deadline = time.monotonic() + 60
    while Song.objects.get(pk=song.pk).status != Song.Status.DONE:
        assert time.monotonic() < deadline, Song.objects.values_list("status", "error_detail").get(pk=song.pk)
        time.sleep(0.3)

    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{song.get_absolute_url()}")
    files = page.locator("#song-files")
    files.get_by_role("button", name="Download WAV").click()
    expect(files.get_by_role("status")).to_have_text("Preparing WAV…")
    link = files.get_by_role("link", name="Download WAV")
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "tide-a.wav"
    checked = audio.check(saved)
    # The song's length is read off its MP3, whose encoder delay and padding add up to two frames (~0.05 s).
    assert checked.format == "wav" and abs(checked.duration - Song.objects.get(pk=song.pk).duration) < 0.1
