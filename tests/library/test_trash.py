"""Deleted songs go to a trash where they can be restored, until it is emptied after 30 days."""

from datetime import timedelta

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from riffweb.studio.models import Song


def test_trash_and_restore(owner_client, done_song):
    owner_client.post(reverse("library:song_trash", args=[done_song.pk]))
    assert owner_client.get(done_song.get_absolute_url()).status_code == 404
    assert done_song.display_title in owner_client.get(reverse("library:trash")).content.decode()
    response = owner_client.post(reverse("library:song_restore", args=[done_song.pk]),
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Add to favourites" in response.content.decode()
    assert owner_client.get(done_song.get_absolute_url()).status_code == 200


def test_a_viewer_cannot_trash_or_restore(client, viewer, done_song):
    client.force_login(viewer)
    assert client.post(reverse("library:song_trash", args=[done_song.pk])).status_code == 403
    done_song.deleted_at = timezone.now()
    done_song.save(update_fields=["deleted_at"])
    assert client.post(reverse("library:song_restore", args=[done_song.pk])).status_code == 403


def test_empty_trash_deletes_songs_and_files_older_than_30_days(done_song, request_with_songs):
    path = done_song.audio.path
    done_song.deleted_at = timezone.now() - timedelta(days=31)
    done_song.save(update_fields=["deleted_at"])
    recent = request_with_songs.songs.get(variant=1)
    recent.deleted_at = timezone.now() - timedelta(days=29)
    recent.save(update_fields=["deleted_at"])
    call_command("empty_trash")
    assert not Song.objects.filter(pk=done_song.pk).exists()
    assert Song.objects.filter(pk=recent.pk).exists()
    import os

    assert not os.path.exists(path)
    call_command("empty_trash")  # twice is harmless


def test_migrating_keeps_exactly_one_daily_schedule(db):
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    schedules = Schedule.objects.filter(func="riffweb.library.tasks.empty_trash")
    assert [s.schedule_type for s in schedules] == [Schedule.DAILY]
