"""The arranger's render through a real django-q2 cluster (a subprocess): the form's request
reaches a worker, which mixes the regions into a stored, decodable song. No music service runs:
a render never calls one.
"""

import uuid

import pytest
from django.urls import reverse

from riffweb import audio
from riffweb.studio.models import Arrangement, Song, Transform, Upload
from riffweb.upstream import dialects
from tests.cluster import running_engine, running_qcluster, wait_for
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


def test_a_rendered_arrangement_is_extended_by_the_music_service(owner_client, project, owner, settings):
    """The mix reaches the local engine as an upload; an extend of the song then names it there."""
    settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"  # sends an upload's bytes: no public URL needed
    chirp = song_with(project, owner, sweep(4.0), "Chirp")
    arrangement = Arrangement.objects.create(project=project, name="To extend", created_by=owner)
    arrangement.add_region(chirp, 0.0, 2.0)
    arrangement.add_region(chirp, 2.0, 4.0, 0.5)
    env = {"RIFFWEB_UPSTREAM_DIALECT": "useapi", "RIFFWEB_POLL_FIRST": "0.5", "RIFFWEB_POLL_MIN": "0.5",
           "RIFFWEB_POLL_MAX": "2"}
    with running_engine(render_delay=0.5) as engine, running_qcluster(engine.url, env) as cluster:
        settings.RIFFWEB_UPSTREAM_URL = engine.url
        owner_client.post(reverse("studio:arrangement_render", args=[arrangement.pk]),
                          {"idempotency_key": str(uuid.uuid4())})
        song = Song.objects.get(transform__arrangement=arrangement)
        def mix_ready() -> bool:
            mix = Transform.objects.get(pk=song.transform_id).mix_upload_id
            return Upload.objects.filter(pk=mix, status=Upload.Status.READY).exists()

        wait_for(mix_ready, 60, message=f"the mix to reach the service\n{cluster.log}")
        page = owner_client.get(song.get_absolute_url() + "?mode=extend").content.decode()
        assert "on its way" not in page
        response = owner_client.post(reverse("studio:song_transform", args=[song.pk, "extend"]), {
            "extend_at": "2", "lyrics_strength": "0.5", "sound_prompt_strength": "0.5", "weirdness": "0.3",
            "variation_strength": "0.5", "model": dialects.get("useapi").default_model, "tags": "ambient",
            "idempotency_key": str(uuid.uuid4())})
        assert response.status_code == 302, response.content.decode()[-3000:]
        extend = Transform.objects.get(mode=Transform.Mode.EXTEND)
        wait_for(lambda: all(s.is_finished for s in extend.songs.all()), 90, message=f"the extend\n{cluster.log}")
        counts = engine.stats()["counts"]
    for made in extend.songs.all():
        assert made.status == Song.Status.DONE, (made.error, made.error_detail)
    assert counts["upload"] >= 1 and counts["create"] == 1
