"""What a musician sees of a preview and of the service's cover art, style, title and lyrics:
the one status poll brings the preview, then the stored song; files go with the song."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from riffweb.library.tasks import empty_trash
from riffweb.studio.models import GuestLink, Song
from tests.conftest import jpeg, tone_wav
from tests.studio.test_song_status import cards_on, poll


@pytest.fixture
def making(request_with_songs):
    """Variant A is being made and the worker has copied the service's preview of it."""
    Song.objects.filter(transform=request_with_songs).update(status=Song.Status.RUNNING, progress=40,
                                                             upstream_partial_url="http://upstream/p.mp3")
    song = request_with_songs.songs.get(variant=0)
    assert song.store_partial(default_storage.save("partials/p.wav", ContentFile(tone_wav(1.0))), "wav")
    song.refresh_from_db()
    return song


def done(song: Song, cover: bool = True) -> Song:
    """The pipeline's last steps: the service said done (with what it made), the audio is stored,
    then its cover art."""
    assert song.record_done("http://upstream/a.mp3", "Neon Rain (Night Mix)", "[Verse]\nNeon on the water",
                            timezone.now(), style="synthwave, dreamy", image_url="http://upstream/c.png")
    song.refresh_from_db()
    assert song.store_audio(default_storage.save("songs/a.wav", ContentFile(tone_wav())), "wav", 2.0, [0.5] * 10)
    song.refresh_from_db()
    assert song.finishing  # the service's cover art is still to be copied
    if cover:
        assert song.finish([], default_storage.save("covers/c.jpg", ContentFile(jpeg())))
        song.refresh_from_db()
    return song


def test_the_poll_brings_a_playable_preview_then_the_song_with_its_cover(owner_client, project, making):
    cards = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    Song.objects.filter(pk=making.pk).update(changed_at=timezone.now())  # what store_partial moved
    answer = poll(owner_client, [c.replace(f"{making.pk}:", f"{making.pk}:old") for c in cards]).content.decode()
    preview_url = reverse("studio:song_partial", args=[making.pk])
    assert f'id="song-preview-{making.pk}" hx-preserve' in answer and preview_url in answer
    assert "Listen while it is being made" in answer and "upstream" not in answer
    assert owner_client.get(preview_url)["Content-Type"] == "audio/wav"

    preview_name = making.partial.name
    song = done(making)
    answer = poll(owner_client, cards).content.decode()
    assert "song-preview" not in answer and reverse("studio:song_audio", args=[song.pk]) in answer
    assert reverse("studio:song_cover", args=[song.pk]) in answer and "synthwave, dreamy" in answer
    assert not song.partial and not default_storage.exists(preview_name)
    assert owner_client.get(preview_url).status_code == 404


def test_the_song_page_shows_the_services_title_and_lyrics_and_keeps_what_was_typed(owner_client, making):
    song = done(making)
    page = owner_client.get(song.get_absolute_url()).content.decode()
    assert "<h1>Neon Rain (Night Mix)" in page and "you typed “Neon rain”" in page
    assert "Lyrics, as the music service wrote them" in page and "Neon on the water" in page
    assert "The lyrics you typed" in page and "City lights" in page
    assert (song.api_title, song.api_style) == ("Neon Rain (Night Mix)", "synthwave, dreamy")


def test_a_song_renamed_before_it_finished_keeps_its_new_name(owner_client, making):
    Song.objects.filter(pk=making.pk).update(title="Keeper")
    song = done(making)
    assert song.title == "Keeper" and song.api_title == "Neon Rain (Night Mix)" and not song.retitled


def test_library_rows_and_guest_pages_show_the_cover(owner_client, client, making, owner):
    song = done(making)
    rows = owner_client.get(reverse("library:song_list")).content.decode()
    assert reverse("studio:song_cover", args=[song.pk]) in rows and "synthwave, dreamy" in rows
    link = GuestLink.objects.create(song=song, created_by=owner)
    client.logout()
    guest_page = client.get(link.get_absolute_url()).content.decode()
    guest_cover = reverse("teams:guest_cover", args=[link.token])
    assert guest_cover in guest_page and reverse("studio:song_cover", args=[song.pk]) not in guest_page
    answer = client.get(guest_cover)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    assert answer["X-Content-Type-Options"] == "nosniff"


def test_a_song_without_cover_or_style_shows_neither(owner_client, making):
    Song.objects.filter(pk=making.pk).update(upstream_partial_url="")
    song = done(making, cover=False)
    page = owner_client.get(song.get_absolute_url()).content.decode()
    assert "img class=\"cover\"" not in page
    assert owner_client.get(reverse("studio:song_cover", args=[song.pk])).status_code == 404


def test_retrying_a_failed_song_deletes_its_preview(making):
    name = making.partial.name
    Song.objects.filter(pk=making.pk).fail("lost", "test")
    making.refresh_from_db()
    assert making.retry()
    assert not making.partial and not making.upstream_partial_url and not default_storage.exists(name)


def test_emptying_the_trash_and_deleting_the_project_delete_previews_and_covers(
    making, project, settings, django_capture_on_commit_callbacks
):
    song = done(making)
    other = making.transform.songs.get(variant=1)
    assert other.store_partial(default_storage.save("partials/q.wav", ContentFile(tone_wav(1.0))), "wav")
    other.refresh_from_db()
    cover, partial = song.cover.name, other.partial.name
    Song.objects.filter(pk=song.pk).update(deleted_at=timezone.now() - timezone.timedelta(days=60))
    settings.RIFFWEB_TRASH_DAYS = 30
    assert empty_trash() == 1 and not default_storage.exists(cover)
    with django_capture_on_commit_callbacks(execute=True):
        project.delete_with_files()
    assert not default_storage.exists(partial)
