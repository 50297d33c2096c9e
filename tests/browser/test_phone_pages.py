"""Every page a member or a guest opens, at phone size (390×844, touch): it answers, nothing on it
scrolls sideways, and its controls can be reached. Screenshots are kept as artefacts in
$RIFFWEB_SCREENSHOTS (or the test's tmp_path). The player and compose journeys at this size are
in test_player_bench.py."""

import os
from pathlib import Path

from django.core.files.base import ContentFile
from django.urls import reverse

from riffweb.playlists.models import Playlist, PlaylistLink
from riffweb.review.models import Comment
from riffweb.studio.models import Arrangement, GuestLink, Palette, Upload
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, add_member, finish_song, make_request, tone_wav

PHONE = {"width": 390, "height": 844}

# Anything wider than the screen whose own box does not scroll: what makes a page slide sideways.
TOO_WIDE = """() => [...document.querySelectorAll('body *')].filter(el => {
  const box = el.getBoundingClientRect();
  if (!box.width || box.right <= innerWidth + 1) return false;
  for (let up = el.parentElement; up; up = up.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return false;
  }
  return true;
}).slice(0, 5).map(el => el.outerHTML.slice(0, 120))"""


def test_every_page_fits_a_phone(browser, live_server, owner, project, transactional_db, tmp_path):
    shots = Path(os.environ.get("RIFFWEB_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    add_member(project, "vera", "viewer")
    transform = make_request(project, owner, title="Night drive anthem with a very long title to wrap")
    song = finish_song(transform.songs.get(variant=0), 4.0)
    finish_song(transform.songs.get(variant=1), 4.0)
    Comment.objects.post(song=song, author=owner, text="@vera the chorus at 0:02 needs more air", at=2.0, end=3.0)
    upload = Upload(project=project, created_by=owner, title="Demo", audio_format="wav", duration=2.0,
                    status=Upload.Status.READY)
    upload.audio.save("upload.wav", ContentFile(tone_wav()), save=True)
    playlist = Playlist.objects.create(project=project, name="Set list", created_by=owner)
    playlist.add(song, by=owner)
    arrangement = Arrangement.objects.create(project=project, name="Best bits", created_by=owner)
    arrangement.add_region(song, 0.0, 1.5)
    palette = Palette.objects.create(project=project, name="Dusk", tags="lo-fi, warm", weirdness=0.3)
    guest = GuestLink.objects.create(song=song, created_by=owner, allow_comments=True)
    guest_playlist = PlaylistLink.objects.create(playlist=playlist, created_by=owner)

    member_pages = {
        "projects": reverse("studio:project_list"),
        "project": project.get_absolute_url(),
        "song": song.get_absolute_url(),
        "upload": reverse("studio:upload_detail", args=[upload.pk]),
        "members": reverse("teams:member_list", args=[project.pk]),
        "library": reverse("library:song_list"),
        "trash": reverse("library:trash"),
        "shortlist": reverse("takes:shortlist", args=[project.pk]),
        "playlists": reverse("playlists:playlist_list", args=[project.pk]),
        "playlist": playlist.get_absolute_url(),
        "arrangement": arrangement.get_absolute_url(),
        "palette": palette.get_absolute_url(),
        "inbox": reverse("review:inbox"),
        "activity": reverse("review:project_activity", args=[project.pk]),
        "email": reverse("review:email_preference"),
        "password": reverse("password_change"),
    }
    guest_pages = {"guest-song": guest.get_absolute_url(), "guest-playlist": guest_playlist.get_absolute_url()}

    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server, owner.username, PASSWORD)
        for name, path in {**member_pages, **guest_pages}.items():
            if name == "guest-song":
                context.clear_cookies()  # guests have no account
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, (name, response.status)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / f"phone-{name}.png", full_page=True)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1, name
            assert page.evaluate(TOO_WIDE) == [], name
            first = page.locator("main button:visible, main a:visible, main input:visible").first
            assert first.bounding_box()["width"] > 0, name  # something on it can be reached
            if name == "song":  # the service gave no tempo: no bar nudges (a button's style once showed them)
                bars = page.locator('[data-nudge-bars="1"]')
                assert bars.count() == 2 and not bars.first.is_visible()
    finally:
        context.close()
