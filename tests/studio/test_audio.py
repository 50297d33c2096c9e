"""Audio responses support byte ranges so that seeking works in browsers."""

from django.urls import reverse

from riffweb.audio import decode


def audio_url(song):
    return reverse("studio:song_audio", args=[song.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_file_is_served_with_its_type(owner_client, done_song):
    response = owner_client.get(audio_url(done_song))
    data = body(response)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(data) == done_song.audio.size
    assert abs(decode(data).duration - 2.0) < 0.01


def test_a_range_gets_206_with_exactly_those_bytes(owner_client, done_song):
    whole = done_song.audio.open("rb").read()
    response = owner_client.get(audio_url(done_song), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert body(response) == whole[100:200]


def test_open_and_suffix_ranges(owner_client, done_song):
    whole = done_song.audio.open("rb").read()
    tail = owner_client.get(audio_url(done_song), HTTP_RANGE="bytes=-50")
    rest = owner_client.get(audio_url(done_song), HTTP_RANGE=f"bytes={len(whole) - 10}-")
    assert body(tail) == whole[-50:]
    assert body(rest) == whole[-10:]


def test_an_unsatisfiable_range_gets_416(owner_client, done_song):
    response = owner_client.get(audio_url(done_song), HTTP_RANGE="bytes=99999999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{done_song.audio.size}"


def test_download_has_a_sensible_file_name(owner_client, done_song):
    response = owner_client.get(reverse("studio:song_download", args=[done_song.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="neon-rain-a.wav"'


def test_a_song_without_audio_yet_is_404(owner_client, request_with_songs):
    song = request_with_songs.songs.get(variant=1)
    assert owner_client.get(audio_url(song)).status_code == 404
