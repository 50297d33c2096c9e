"""Sharing as people do it: an owner invites a teammate who accepts, opens and plays the shared song;
a viewer sees no transform forms; a guest link plays for an anonymous browser until revoked."""

import re

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, finish_song, make_request, make_user
from tests.browser.conftest import log_in

TRANSFORM_FORMS = "form[action*='/transform/'], form[action*='/generate']"


@pytest.fixture
def shared_song(transactional_db, project, owner):
    return finish_song(make_request(project, owner, title="Harbour lights").songs.get(variant=0), seconds=4)


def play(page, selector: str) -> None:
    player = page.locator(selector).first
    player.wait_for(state="attached")
    player.evaluate("audio => audio.play()")
    page.wait_for_function("audio => audio.currentTime > 0.3", arg=player.element_handle())


def test_an_invited_teammate_opens_the_shared_link_and_plays_it(browser, page, live_server, owner, project,
                                                                 shared_song):
    teammate = make_user("tess")
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{reverse('teams:member_list', args=[project.pk])}")
    page.get_by_label("Username or e-mail address").fill("tess")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    page.get_by_text("Invitation sent to tess").wait_for()

    page.goto(f"{live_server.url}{shared_song.get_absolute_url()}")
    assert page.locator(TRANSFORM_FORMS).count() > 0  # the owner has them: the check below means something
    link_box = page.get_by_label("Link for project members")
    song_link = link_box.input_value()
    assert song_link == f"{live_server.url}{shared_song.get_absolute_url()}"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link", exact=True).click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == song_link

    context = browser.new_context()
    teammate_page = context.new_page()
    teammate_page.set_default_timeout(15_000)
    log_in(teammate_page, live_server, teammate.username, PASSWORD)
    teammate_page.goto(f"{live_server.url}{reverse('studio:project_list')}")
    teammate_page.get_by_role("button", name=f"Join {project.name}").click()  # nobody joins without consent
    teammate_page.get_by_role("heading", name=project.name).wait_for()
    teammate_page.goto(song_link)
    assert teammate_page.get_by_role("heading", name=re.compile("Harbour lights")).first.is_visible()
    play(teammate_page, f'audio[src$="{reverse("studio:song_audio", args=[shared_song.pk])}"]')

    # A viewer listens and downloads, but no form on the song or project page makes music.
    assert teammate_page.locator(TRANSFORM_FORMS).count() == 0
    assert teammate_page.get_by_role("button", name="Create guest link").count() == 0
    teammate_page.goto(f"{live_server.url}{project.get_absolute_url()}")
    teammate_page.get_by_role("heading", name=project.name).wait_for()
    assert teammate_page.locator(TRANSFORM_FORMS).count() == 0
    assert teammate_page.get_by_role("button", name=re.compile("Generate")).count() == 0
    context.close()


def test_a_guest_link_plays_for_an_anonymous_browser_until_it_is_revoked(browser, page, live_server, owner,
                                                                         shared_song):
    log_in(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}{reverse('teams:song_sharing', args=[shared_song.pk])}")
    page.get_by_label("Expires").select_option("7")
    page.get_by_role("button", name="Create guest link").click()
    page.get_by_text("Guest link created.").wait_for()
    guest_url = page.get_by_label("Guest link 1").input_value()
    assert "/listen/" in guest_url

    context = browser.new_context()
    guest = context.new_page()
    guest.set_default_timeout(15_000)
    response = guest.goto(guest_url)
    assert response.status == 200
    assert guest.get_by_role("heading", name="Harbour lights").is_visible()
    assert "Night drive" not in guest.content()  # nothing else of the project
    play(guest, "audio")

    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("revoked").wait_for()
    assert guest.goto(guest_url).status == 404
    context.close()
