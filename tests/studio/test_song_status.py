"""The status partial polls while a song is running and stops when it is finished."""

from django.urls import reverse

from riffweb.studio.models import Song

HTMX = {"HTTP_HX_REQUEST": "true"}


def status(client, song):
    return client.get(reverse("studio:song_status", args=[song.pk]), **HTMX)


def test_a_running_song_keeps_polling_and_shows_its_progress(owner_client, request_with_songs):
    song = request_with_songs.songs.get(variant=0)
    song.status, song.progress = Song.Status.RUNNING, 42
    song.save()
    response = status(owner_client, song)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in page
    assert 'value="42"' in page and "42%" in page
    assert "<html" not in page


def test_it_stops_polling_when_song_is_done(owner_client, done_song):
    response = status(owner_client, done_song)
    page = response.content.decode()
    assert response.status_code == 286
    assert "hx-trigger" not in page
    assert reverse("studio:song_audio", args=[done_song.pk]) in page
    assert "2.0 s" in page
    assert "Download" in page


def test_a_failed_song_stops_polling_with_the_reason(owner_client, request_with_songs):
    song = request_with_songs.songs.get(variant=1)
    song.status = Song.Status.FAILED
    song.error = "The upstream refused these lyrics (moderation). Change the words and try again."
    song.save()
    response = status(owner_client, song)
    assert response.status_code == 286
    assert "refused these lyrics" in response.content.decode()
    assert "hx-trigger" not in response.content.decode()


def test_the_song_page_is_a_full_page(owner_client, done_song):
    page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert "<html" in page
    assert "variant A" in page
    assert "synthwave" in page
