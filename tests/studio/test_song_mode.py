"""A song carries its request's mode: the library's mode filter reads it from the song."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from riffweb.studio.models import Song, Transform


def test_a_requests_songs_and_a_take_nobody_waited_for_carry_its_mode(owner_client, owner, project):
    made = Transform.objects.create_request(project=project, user=owner, mode=Transform.Mode.COVER,
                                            fields={"title": "Covered"}, key=uuid.uuid4(), dialect="riffusion")
    take = made.add_take("job-1", "track-3", timezone.now(), first_poll=5.0, beside=None)
    assert {s.mode for s in made.songs.all()} == {Transform.Mode.COVER} and take.variant == 2
    listed = owner_client.get(reverse("library:song_list"), {"mode": "cover"}).content.decode()
    assert all(f'id="song-row-{s.pk}"' in listed for s in made.songs.all())
    assert 'id="song-row-' not in owner_client.get(reverse("library:song_list"), {"mode": "extend"}).content.decode()


def test_a_song_without_a_mode_is_refused_by_the_database(owner, project):
    made = Transform.objects.create(project=project, created_by=owner, mode=Transform.Mode.EXTEND)
    with pytest.raises(IntegrityError), transaction.atomic():
        Song.objects.create(transform=made, project=project)
