"""A failed, unconfirmed, lost or timed-out variant can be sent again from its card, alone."""

from django.urls import reverse

from riffweb.studio.models import Failure, Song, Transform
from tests.conftest import submitted

HTMX = {"HTTP_HX_REQUEST": "true"}


def end(song, failure: str, status=Song.Status.FAILED):
    Song.objects.filter(pk=song.pk).fail(failure)
    song.refresh_from_db()
    assert song.status == status
    return song


def test_a_timed_out_variant_offers_retry_and_starts_over_alone(
    owner_client, request_with_songs, enqueued, django_capture_on_commit_callbacks
):
    Transform.objects.filter(pk=request_with_songs.pk).update(status=Transform.Status.SUBMITTED)
    song = end(request_with_songs.songs.get(variant=0), Failure.TIMED_OUT, Song.Status.TIMED_OUT)
    sibling = request_with_songs.songs.get(variant=1)
    Song.objects.filter(pk=sibling.pk).update(status=Song.Status.RUNNING, progress=40)
    card = owner_client.get(reverse("studio:song_status"), {"card": f"{song.pk}:0"}, **HTMX).content.decode()
    assert reverse("studio:song_retry", args=[song.pk]) in card
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("studio:song_retry", args=[song.pk]), follow=True)
    request_with_songs.refresh_from_db()
    assert "Sent again" in response.content.decode()
    assert request_with_songs.status == Transform.Status.QUEUED
    assert Song.objects.get(pk=song.pk).status == Song.Status.PENDING
    assert Song.objects.get(pk=sibling.pk).status == Song.Status.RUNNING  # untouched
    assert submitted(enqueued) == [request_with_songs.pk]  # enqueued once


def test_a_failed_variant_is_retried_while_its_sibling_is_done(
    owner_client, request_with_songs, done_song, enqueued, django_capture_on_commit_callbacks
):
    other = end(request_with_songs.songs.get(variant=1), Failure.RENDER)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("studio:song_retry", args=[other.pk]))
    assert Song.objects.get(pk=other.pk).status == Song.Status.PENDING
    assert Song.objects.get(pk=done_song.pk).status == Song.Status.DONE
    assert submitted(enqueued) == [request_with_songs.pk]


def test_a_declined_request_offers_edit_and_send_again_not_retry(owner_client, request_with_songs):
    song = end(request_with_songs.songs.get(variant=0), Failure.REJECTED)
    assert not song.can_retry and song.can_resend
    response = owner_client.post(reverse("studio:song_retry", args=[song.pk]), follow=True)
    assert "cannot be sent again" in response.content.decode()
    assert Song.objects.get(pk=song.pk).status == Song.Status.FAILED


def test_a_song_that_is_done_is_not_sent_again(owner_client, done_song, enqueued):
    response = owner_client.post(reverse("studio:song_retry", args=[done_song.pk]), follow=True)
    assert "cannot be sent again" in response.content.decode()
    assert Song.objects.get(pk=done_song.pk).status == Song.Status.DONE
    assert submitted(enqueued) == []


def test_viewers_cannot_retry(client, viewer, request_with_songs):
    song = end(request_with_songs.songs.get(variant=0), Failure.LOST)
    client.force_login(viewer)
    assert client.post(reverse("studio:song_retry", args=[song.pk])).status_code == 403
    assert not request_with_songs.songs.filter(status=Song.Status.PENDING).exclude(variant=1).exists()
