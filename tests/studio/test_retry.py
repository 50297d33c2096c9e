"""A failed, unknown or timed-out request can be sent again from its song card."""

from django.urls import reverse

from riffweb.studio.models import Song, Transform
from tests.conftest import submitted

HTMX = {"HTTP_HX_REQUEST": "true"}


def time_out(transform):
    transform.status = Transform.Status.SUBMITTED
    transform.upstream_ids = ["a", "b"]
    transform.save()
    transform.songs.update(status=Song.Status.TIMED_OUT, error="The upstream took too long. Retry.")


def test_a_timed_out_song_offers_retry_and_both_variants_start_over(
    owner_client, request_with_songs, enqueued, django_capture_on_commit_callbacks
):
    time_out(request_with_songs)
    song = request_with_songs.songs.get(variant=0)
    card = owner_client.get(reverse("studio:song_status", args=[song.pk]), **HTMX).content.decode()
    assert reverse("studio:song_retry", args=[song.pk]) in card
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("studio:song_retry", args=[song.pk]), follow=True)
    request_with_songs.refresh_from_db()
    assert "Sent again" in response.content.decode()
    assert request_with_songs.status == Transform.Status.QUEUED
    assert set(request_with_songs.songs.values_list("status", flat=True)) == {Song.Status.PENDING}
    assert submitted(enqueued) == [request_with_songs.pk]


def test_a_request_with_a_finished_variant_is_not_sent_again(owner_client, request_with_songs, done_song):
    other = request_with_songs.songs.get(variant=1)
    other.status = Song.Status.FAILED
    other.save()
    response = owner_client.post(reverse("studio:song_retry", args=[other.pk]), follow=True)
    other.refresh_from_db()
    assert "cannot be sent again" in response.content.decode()
    assert other.status == Song.Status.FAILED


def test_viewers_cannot_retry(client, viewer, request_with_songs):
    time_out(request_with_songs)
    client.force_login(viewer)
    song = request_with_songs.songs.get(variant=0)
    assert client.post(reverse("studio:song_retry", args=[song.pk])).status_code == 403
    assert not request_with_songs.songs.filter(status=Song.Status.PENDING).exists()
