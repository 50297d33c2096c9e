"""Lyrics on the studio's pages: the timed lines and their .lrc, the inpaint range they fill, the
lyrics field's limit, and "Write lyrics for me" (the draft, its poll, its limits)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from riffweb import queue
from riffweb.studio.models import GuestLink, LyricsDraft

LINES = [{"text": "City lights", "start": 0.5, "end": 1.5}, {"text": "Neon rain", "start": 61.255, "end": 64.0}]


@pytest.fixture
def timed_song(done_song):
    done_song.timed_lyrics = LINES
    done_song.save(update_fields=["timed_lyrics"])
    done_song.refresh_from_db()
    return done_song


def test_the_lrc_file_holds_title_artist_and_each_line_at_its_time(client, viewer, timed_song):
    client.force_login(viewer)
    response = client.get(reverse("studio:song_lyrics_lrc", args=[timed_song.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="neon-rain-a.lrc"'
    assert response.content.decode().splitlines() == [
        "[ti:Neon rain]", "[ar:Night drive]", "[by:riffweb]", "[00:00.50]City lights", "[01:01.26]Neon rain",
    ]


def test_a_song_without_timed_lyrics_has_no_lrc(owner_client, done_song):
    assert owner_client.get(reverse("studio:song_lyrics_lrc", args=[done_song.pk])).status_code == 404
    page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert "Download .lrc" not in page and "data-timed-lyrics" not in page
    assert '<pre class="lyrics">[Verse]\nCity lights</pre>' in page


def test_a_stranger_gets_no_lrc(client, stranger, timed_song):
    client.force_login(stranger)
    assert client.get(reverse("studio:song_lyrics_lrc", args=[timed_song.pk])).status_code == 404


def test_guests_get_the_lrc_while_their_link_lives(client, owner, timed_song):
    link = GuestLink.objects.create(song=timed_song, created_by=owner)
    page = client.get(link.get_absolute_url()).content.decode()
    url = reverse("teams:guest_lyrics", args=[link.token])
    assert f'href="{url}"' in page
    assert client.get(url).content.decode().endswith("[01:01.26]Neon rain\n")
    link.revoked_at = timezone.now()
    link.save()
    assert client.get(url).status_code == 404


def test_editors_can_pick_lines_to_inpaint_and_viewers_only_listen(client, owner, viewer, timed_song):
    client.force_login(owner)
    page = client.get(timed_song.get_absolute_url()).content.decode()
    assert page.count("data-pick") == 2 and "Inpaint these lines" in page
    assert 'data-start="61.255000" data-end="64.000000"' in page and "Download .lrc" in page
    client.force_login(viewer)
    page = client.get(timed_song.get_absolute_url()).content.decode()
    assert "data-pick" not in page and "Inpaint these lines" not in page and "Transform this song" not in page
    assert "City lights</button>" in page and "Download .lrc" in page


def test_picked_lines_open_the_inpaint_form_with_their_range(owner_client, timed_song):
    page = owner_client.get(f"{timed_song.get_absolute_url()}?mode=inpaint&replace_start=0.50&replace_end=1.50")
    form = page.context["form"]
    assert (form.initial["replace_start"], form.initial["replace_end"]) == (0.5, 1.5)
    assert 'name="replace_start" value="0.5"' in page.content.decode()
    page = owner_client.get(f"{timed_song.get_absolute_url()}?mode=inpaint&replace_start=nan&replace_end=1")
    assert "replace_start" not in page.context["form"].initial


def test_the_lyrics_field_carries_the_services_limit_and_the_server_enforces_it(owner_client, project):
    page = owner_client.get(project.get_absolute_url()).content.decode()
    assert 'data-lyrics-limit="3000"' in page and 'maxlength="3000"' not in page
    assert 'data-marker="[Pre-Chorus]"' in page and "Write lyrics for me" in page
    def send(lyrics: str, key: str):
        return owner_client.post(reverse("studio:professional_create", args=[project.pk]), {
            "title": "Long", "tags": "pop", "lyrics": lyrics, "model": "FUZZ-1.1", "idempotency_key": key,
        }, headers={"HX-Request": "true"})

    over = send("la\r\n" * 1000 + "xy", "2b7c1f9e-3c55-4b8e-9a57-1a1f5a3a8d11")
    assert "The music service takes at most 3000 characters of lyrics; these have 3002." in over.content.decode()
    assert not project.transforms.exists()
    send("la\r\n" * 1000, "2b7c1f9e-3c55-4b8e-9a57-1a1f5a3a8d12")  # a line break counts once, as on the page
    assert project.transforms.get().lyrics == ("la\n" * 1000).strip()


def test_dialect_a_greys_out_write_lyrics_with_the_reason(owner_client, project):
    page = owner_client.get(project.get_absolute_url()).content.decode()
    assert "This music service (Riffusion API) does not write lyrics; write your own." in page
    assert 'data-write-lyrics hx-post' in page and 'disabled aria-describedby="lyrics-help-reason"' in page
    response = owner_client.post(reverse("studio:lyrics_draft_create", args=[project.pk]), {"lyrics_prompt": "rain"},
                                 headers={"HX-Request": "true"})
    assert "does not write lyrics" in response.content.decode() and not LyricsDraft.objects.exists()


@pytest.fixture
def useapi(settings):
    settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"


def test_write_lyrics_stores_a_draft_for_the_worker_and_polls_it(
        owner_client, project, owner, useapi, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("studio:lyrics_draft_create", args=[project.pk]),
                                     {"lyrics_prompt": "  harbour   lights "}, headers={"HX-Request": "true"})
    draft = LyricsDraft.objects.get()
    assert (draft.prompt, draft.created_by, draft.dialect) == ("harbour lights", owner, "useapi")
    assert enqueued == [(queue.WRITE_LYRICS, (draft.pk,))]
    poll = reverse("studio:lyrics_draft_status", args=[draft.pk])
    assert response.status_code == 200
    assert f'hx-get="{poll}" hx-trigger="every 1s" hx-target="this"' in response.content.decode()
    assert "Writing lyrics about “harbour lights”" in response.content.decode()
    assert owner_client.get(poll, headers={"HX-Request": "true"}).status_code == 200
    draft.mark_done("[Verse]\nHarbour lights")
    done = owner_client.get(poll, headers={"HX-Request": "true"})
    assert done.status_code == 286 and "hx-trigger" not in done.content.decode()
    assert "[Verse]\nHarbour lights</pre>" in done.content.decode() and "Use these lyrics" in done.content.decode()


def test_a_failed_draft_stops_the_poll_with_its_message(owner_client, project, owner):
    draft = LyricsDraft.objects.create(project=project, created_by=owner, prompt="rain", dialect="useapi")
    draft.mark_failed("The music service is busy. Try again in a minute.")
    response = owner_client.get(reverse("studio:lyrics_draft_status", args=[draft.pk]))
    assert response.status_code == 286 and "The music service is busy. Try again in a minute." in response.content.decode()


def test_a_draft_whose_task_was_lost_ends_instead_of_polling_forever(owner_client, project, owner):
    draft = LyricsDraft.objects.create(project=project, created_by=owner, prompt="rain", dialect="useapi",
                                       created_at=timezone.now() - timedelta(minutes=3))
    response = owner_client.get(reverse("studio:lyrics_draft_status", args=[draft.pk]))
    assert response.status_code == 286 and "did not start. Try again." in response.content.decode()
    assert LyricsDraft.objects.get().status == LyricsDraft.Status.FAILED


def test_an_empty_idea_and_too_many_drafts_are_refused_with_a_message(owner_client, project, useapi, settings, enqueued):
    url = reverse("studio:lyrics_draft_create", args=[project.pk])
    empty = owner_client.post(url, {"lyrics_prompt": "  "}, headers={"HX-Request": "true"})
    assert "Say what the song is about" in empty.content.decode()
    assert owner_client.post(url, {"lyrics_prompt": " "}).status_code == 400
    settings.RIFFWEB_LYRICS_HELP_PER_HOUR = 1
    assert owner_client.post(url, {"lyrics_prompt": "rain"}).status_code == 200
    refused = owner_client.post(url, {"lyrics_prompt": "snow"})
    assert refused.status_code == 429 and "the most lyrics drafts one person may ask for in an hour (1)" in (
        refused.content.decode())
    assert LyricsDraft.objects.count() == 1


def test_viewers_cannot_ask_for_lyrics(client, project, viewer, useapi):
    client.force_login(viewer)
    response = client.post(reverse("studio:lyrics_draft_create", args=[project.pk]), {"lyrics_prompt": "rain"})
    assert response.status_code == 403 and not LyricsDraft.objects.exists()
