"""A song kept in an S3-compatible bucket plays and seeks in Chromium: riffweb checks the right to
it and redirects, the store answers the ranges, and the page's policy allows that store."""

import time

import pytest

from riffweb.audio import check
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, finish_song, make_request

pytestmark = pytest.mark.integration


def wait_until(player, condition: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not player.evaluate(f"audio => {condition}"):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.1)


def test_a_song_in_the_bucket_plays_and_seeks_from_the_store(transactional_db, page, live_server, owner,
                                                              project, s3_media, settings):
    # What riffweb/settings.py puts in the policy for a bucket that browsers reach.
    settings.SECURE_CSP = {**settings.SECURE_CSP, "media-src": [*settings.SECURE_CSP["media-src"], s3_media.endpoint]}
    song = finish_song(make_request(project, owner, title="Harbour lights").songs.get(variant=0), seconds=6)
    # As every stored song has them (the worker's check draws them): the player then never
    # fetches the audio itself, only the <audio> element reads it.
    song.peaks = check(s3_media.read(song.audio.name), max_seconds=60).peaks
    song.save(update_fields=["peaks"])
    from_store = []
    page.on("response", lambda r: from_store.append(r.status) if r.url.startswith(s3_media.endpoint) else None)
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{song.get_absolute_url()}")

    player = page.locator("audio").first
    player.wait_for(state="attached")
    player.evaluate("audio => audio.play()")
    wait_until(player, "audio.currentTime > 0.3")
    player.evaluate("audio => { audio.currentTime = 4.5; }")
    wait_until(player, "audio.currentTime >= 4.5 && audio.readyState >= 2")
    assert from_store and set(from_store) <= {200, 206}
