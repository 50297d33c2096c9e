"""Listen-only guest links stream a lower-bitrate preview, made once and kept, never the master."""

from django.urls import reverse

from riffweb.audio import check, decode
from riffweb.studio.models import GuestLink, Song


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_listen_only_guest_hears_a_preview_not_the_master(client, done_song):
    master = done_song.audio.open("rb").read()
    link = GuestLink.objects.create(song=done_song)
    response = client.get(reverse("teams:guest_audio", args=[link.token]))
    heard = body(response)
    assert response.status_code == 200 and response["Content-Type"] == "audio/mpeg"
    assert heard != master and master not in heard
    preview = check(heard)
    assert preview.format == "mp3" and abs(preview.duration - decode(master).duration) < 0.1
    song = Song.objects.get(pk=done_song.pk)
    assert song.preview and song.preview.open("rb").read() == heard


def test_the_preview_is_made_once_and_kept(client, done_song):
    link = GuestLink.objects.create(song=done_song)
    first = body(client.get(reverse("teams:guest_audio", args=[link.token])))
    name = Song.objects.get(pk=done_song.pk).preview.name
    ranged = client.get(reverse("teams:guest_audio", args=[link.token]), headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and body(ranged) == first[:100]
    assert Song.objects.get(pk=done_song.pk).preview.name == name


def test_a_link_that_allows_downloads_plays_and_downloads_the_master(client, done_song):
    master = done_song.audio.open("rb").read()
    link = GuestLink.objects.create(song=done_song, allow_download=True)
    assert body(client.get(reverse("teams:guest_audio", args=[link.token]))) == master
    assert body(client.get(reverse("teams:guest_download", args=[link.token]))) == master
    assert not Song.objects.get(pk=done_song.pk).preview
