"""The arranger's render through a real django-q2 cluster (a subprocess): the form's request
reaches a worker, which mixes the regions into a stored, decodable song. No music service runs:
a render never calls one.
"""

import uuid

import pytest
from django.urls import reverse

from riffweb import audio
from riffweb.studio.models import Arrangement, Song
from tests.cluster import running_qcluster, wait_for
from tests.studio.test_arranger import MP3_SLACK, song_with, sweep, tone

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_rendered_arrangement_is_mixed_by_the_cluster(owner_client, project, owner):
    chirp, hum = song_with(project, owner, sweep(6.0), "Chirp"), song_with(project, owner, tone(4.0, 330), "Hum")
    arrangement = Arrangement.objects.create(project=project, name="Cluster mix", created_by=owner)
    arrangement.add_region(chirp, 0.0, 2.0)
    arrangement.add_region(hum, 1.0, 3.5, 0.5)
    arrangement.add_region(chirp, 4.0, 6.0, 0.25)
    with running_qcluster() as cluster:
        response = owner_client.post(reverse("studio:arrangement_render", args=[arrangement.pk]),
                                     {"idempotency_key": str(uuid.uuid4())})
        assert response.status_code == 302
        song = Song.objects.get(transform__arrangement=arrangement)
        wait_for(lambda: Song.objects.get(pk=song.pk).is_finished, 60, message=f"the mix\n{cluster.log}")
    song.refresh_from_db()
    assert song.status == Song.Status.DONE, (song.error, song.error_detail)
    duration, fmt = audio.probe(song.audio.path)
    assert fmt == "mp3" and duration == pytest.approx(2.0 + 2.5 + 2.0 - 0.75, abs=MP3_SLACK)
    page = owner_client.get(song.get_absolute_url()).content.decode()
    assert "Regions mixed" in page and "4.00–6.00 s (crossfade 0.25 s)" in page
