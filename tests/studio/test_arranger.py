"""The arranger: regions of a project's songs, mixed by riffweb itself into a new song.

The render task runs here directly (the cluster runs it in tests/upstream/test_arranger_cluster.py);
the assertions are on what a musician gets: the page's text and status, the song's row, and the
rendered file decoded.
"""

import uuid

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from riffweb import audio, mixing, queue
from riffweb.studio import tasks
from riffweb.studio.models import Arrangement, Failure, Song, Transform
from riffweb.upstream.tracker import QUEUED_GRACE, reconcile
from tests.conftest import add_member, make_request

RATE = 44_100
MP3_SLACK = 0.08  # an MP3's encoder delay and padding, both ends


def tone(seconds: float, freq: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([wave, wave], axis=1)


def sweep(seconds: float, level: float = 0.3) -> np.ndarray:
    """A rising chirp: every stretch of it differs from every other, so correlation finds its place."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave = (level * np.sin(2 * np.pi * (200 * t + 150 * t * t))).astype(np.float32)
    return np.stack([wave, wave], axis=1)


def song_with(project, owner, samples: np.ndarray, title: str) -> Song:
    song = make_request(project, owner, title=title).songs.get(variant=0)
    song.audio.save(f"{title}.wav", ContentFile(audio.encode_wav(samples, RATE)), save=False)
    song.audio_format, song.duration, song.status = "wav", len(samples) / RATE, Song.Status.DONE
    song.save()
    return song


@pytest.fixture
def two_songs(project, owner):
    return song_with(project, owner, sweep(6.0), "Chirp"), song_with(project, owner, tone(5.0, 330, 0.05), "Hum")


@pytest.fixture
def arrangement(project, owner, two_songs):
    """Three regions from two songs: 1–3 s of Chirp, 0.5–3 s of Hum (0.5 s crossfade), 3–5 s of
    Chirp (1 s crossfade): 2 + 2.5 + 2 − 1.5 = 5 s."""
    chirp, hum = two_songs
    arrangement = Arrangement.objects.create(project=project, name="Best bits", created_by=owner)
    arrangement.add_region(chirp, 1.0, 3.0)
    arrangement.add_region(hum, 0.5, 3.0, 0.5)
    arrangement.add_region(chirp, 3.0, 5.0, 1.0)
    return arrangement


def render(arrangement, owner, on_commit) -> Song:
    with on_commit(execute=True):
        made = Transform.objects.create_render(arrangement, owner, uuid.uuid4())
        assert tasks.render_arrangement(made.pk) == "rendered"
    return made.songs.get(variant=0)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_mix_is_the_regions_less_their_crossfades_at_one_loudness():
    loud, quiet = tone(3.0, 440, 0.5), tone(3.0, 550, 0.05)
    parts = [mixing.Part(loud, RATE, 0.0, 2.0, 0.0), mixing.Part(quiet, RATE, 0.0, 2.0, 0.5)]
    mixed = mixing.mix(parts)
    assert len(mixed) == int(3.5 * RATE)
    rms = [float(np.sqrt(np.mean(np.square(mixed[a:b])))) for a, b in ((0, RATE), (int(2.5 * RATE), len(mixed)))]
    assert rms[0] == pytest.approx(rms[1], rel=0.05)  # 20 dB apart in the songs, matched in the mix
    assert rms[0] == pytest.approx(mixing.TARGET_RMS, rel=0.05)


def test_an_equal_power_crossfade_keeps_the_level_through_the_join():
    a, b = tone(4.0, 440), tone(4.0, 443)  # near-uncorrelated over short windows is not needed: power adds
    mixed = mixing.mix([mixing.Part(a, RATE, 0, 4, 0), mixing.Part(b, RATE, 0, 4, 2.0)])
    middle = mixed[int(2.9 * RATE):int(3.1 * RATE)]
    assert float(np.max(np.abs(middle))) > 0.5 * float(np.max(np.abs(mixed[:RATE])))


def test_a_render_makes_a_done_song_whose_length_and_start_are_the_arrangements(
        owner_client, owner, arrangement, two_songs, enqueued, django_capture_on_commit_callbacks, settings):
    song = render(arrangement, owner, django_capture_on_commit_callbacks)
    assert (queue.RENDER_ARRANGEMENT, (song.transform_id,)) in enqueued
    assert not [f for f, _ in enqueued if f == queue.SUBMIT]  # never sent to the music service
    song.refresh_from_db()
    assert song.status == Song.Status.DONE and song.audio_format == "mp3" and song.peaks
    decoded = audio.decode(song.audio.path)
    assert decoded.duration == pytest.approx(5.0, abs=MP3_SLACK)
    assert song.duration == pytest.approx(5.0, abs=MP3_SLACK)
    # The mix opens on Chirp's 1–3 s: found by correlation within the MP3's delay, and strongly.
    source = audio.decode(two_songs[0].audio.path).samples[RATE:int(2.0 * RATE), 0]
    mixed = decoded.samples[:, 0]
    best = max(correlation(source, mixed[lag:lag + len(source)]) for lag in range(0, 3000, 8))
    assert best > 0.9
    page = owner_client.get(song.get_absolute_url()).content.decode()
    assert "Regions mixed" in page and "Chirp · variant A" in page and "Hum · variant A" in page
    assert "0.50–3.00 s (crossfade 0.50 s)" in page
    assert "Open the arrangement" in page
    settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"  # a service with WAV and stems downloads
    files = owner_client.get(reverse("studio:song_files", args=[song.pk])).content.decode()
    assert "riffweb mixed this song itself" in files  # none of them to ask the service for
    assert "This mix is on its way to the music service" in page  # until the service has it


def test_the_mix_goes_to_the_music_service_so_the_song_transforms_like_any_other(
        owner_client, owner, arrangement, enqueued, django_capture_on_commit_callbacks):
    from riffweb.studio.models import Upload
    from riffweb.upstream.submit import build_request
    song = render(arrangement, owner, django_capture_on_commit_callbacks)
    mix = song.transform.__class__.objects.get(pk=song.transform_id).mix_upload
    assert (queue.SEND_UPLOAD, (mix.pk,)) in enqueued
    assert mix.audio.read() == song.audio.read() and mix.audio.name != song.audio.name  # a copy of its own
    mix.record_sent("up-1", "mix-on-the-service")
    Upload.objects.get(pk=mix.pk).mark_ready()
    page = owner_client.get(song.get_absolute_url() + "?mode=extend").content.decode()
    assert "on its way" not in page and "Choose a point" not in page
    owner_client.post(reverse("studio:song_transform", args=[song.pk, "extend"]), {
        "extend_at": "2", "lyrics_strength": "0.5", "sound_prompt_strength": "0.5", "weirdness": "0.3",
        "variation_strength": "0.5", "model": "FUZZ-1.1", "idempotency_key": str(uuid.uuid4())})
    extend = Transform.objects.get(mode=Transform.Mode.EXTEND)
    extend.refresh_from_db()
    sent = build_request(Transform.objects.select_related("source_song__transform__mix_upload").get(pk=extend.pk))
    assert (sent.riff_id, sent.audio_upload_id) == ("", "mix-on-the-service")


def test_rendering_the_same_arrangement_twice_gives_the_same_file(
        owner, arrangement, enqueued, django_capture_on_commit_callbacks):
    first, second = (render(arrangement, owner, django_capture_on_commit_callbacks) for _ in range(2))
    assert first.pk != second.pk
    assert first.mode == second.mode == Transform.Mode.ARRANGEMENT  # what the library's mode filter reads
    assert first.audio.read() == second.audio.read()


def test_a_render_ends_with_a_message_when_a_source_lost_its_audio(owner, arrangement, two_songs, enqueued):
    made = Transform.objects.create_render(arrangement, owner, uuid.uuid4())
    Song.objects.filter(pk=two_songs[1].pk).update(audio="")
    assert tasks.render_arrangement(made.pk) == "failed"
    song = made.songs.get()
    assert song.status == Song.Status.FAILED and song.failure == Failure.MIX
    assert "Hum" in song.error and not song.can_retry
    assert tasks.render_arrangement(made.pk) == "not due"  # safe to run twice


def test_a_render_that_keeps_stopping_its_worker_ends_with_a_message(owner, arrangement, enqueued):
    made = Transform.objects.create_render(arrangement, owner, uuid.uuid4())
    Transform.objects.filter(pk=made.pk).update(attempts=tasks.MAX_RENDER_ATTEMPTS)
    assert tasks.render_arrangement(made.pk) == "failed"
    assert made.songs.get().failure == Failure.MIX


def test_a_lost_render_task_is_sent_again_by_the_reconciler(owner, arrangement, enqueued):
    made = Transform.objects.create_render(arrangement, owner, uuid.uuid4())
    Transform.objects.filter(pk=made.pk).update(created_at=made.created_at - QUEUED_GRACE * 2)
    enqueued.clear()
    assert made.pk not in reconcile()  # not for the music service
    assert (queue.RENDER_ARRANGEMENT, (made.pk,)) in enqueued


def test_the_page_builds_the_lane_and_render_sends_to_the_new_song(owner_client, project, two_songs, enqueued):
    chirp, hum = two_songs
    response = owner_client.post(reverse("studio:arrangement_create", args=[project.pk]), {"name": "Medley"})
    arrangement = Arrangement.objects.get(name="Medley")
    assert response["Location"] == arrangement.get_absolute_url()
    add = reverse("studio:region_add", args=[arrangement.pk])
    assert owner_client.post(add, {"song": chirp.pk, "start": 0, "end": 2}).status_code == 302
    assert owner_client.post(add, {"song": hum.pk, "start": 1, "end": 4, "crossfade": 0.5}).status_code == 302
    first, second = arrangement.lane()
    owner_client.post(reverse("studio:region_change", args=[arrangement.pk, second.pk]), {"action": "up"})
    assert [r.song_id for r in arrangement.lane()] == [hum.pk, chirp.pk]
    page = owner_client.get(arrangement.get_absolute_url()).content.decode()
    # A crossfade goes with its region: Hum, first now, overlaps nothing; Chirp follows it without one.
    assert "Length of the mix: <strong data-length>5.00 s</strong>" in page
    response = owner_client.post(reverse("studio:arrangement_render", args=[arrangement.pk]),
                                 {"idempotency_key": str(uuid.uuid4())})
    song = Song.objects.get(transform__arrangement=arrangement)
    assert response["Location"] == song.get_absolute_url()
    assert song.transform.regions[0]["song"] == hum.pk and song.status == Song.Status.PENDING
    assert "riffweb is mixing this arrangement itself" in owner_client.get(song.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("fields", "message"), [
    ({"start": 1, "end": 9}, "pick a start and end inside"),
    ({"start": 2, "end": 2.2}, "at least 0.5 seconds"),
    ({"start": -1, "end": 2}, "Ensure this value is greater than or equal to 0"),
    ({"start": "soon", "end": 2}, "Enter a number"),
])
def test_a_region_outside_its_song_is_refused_with_the_reason(owner_client, project, two_songs, fields, message):
    arrangement = Arrangement.objects.create(project=project, name="Tight")
    response = owner_client.post(reverse("studio:region_add", args=[arrangement.pk]),
                                 {"song": two_songs[0].pk, **fields})
    assert response.status_code == 400 and message in response.content.decode()
    assert not arrangement.regions.exists()


def test_a_song_of_another_project_is_not_offered(owner_client, owner, project, two_songs):
    from riffweb.studio.models import Project
    elsewhere = Project.create_for(owner, name="Elsewhere")
    stranger_song = song_with(elsewhere, owner, tone(3, 220), "Away")
    arrangement = Arrangement.objects.create(project=project, name="Mine")
    response = owner_client.post(reverse("studio:region_add", args=[arrangement.pk]),
                                 {"song": stranger_song.pk, "start": 0, "end": 2})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_a_crossfade_longer_than_a_neighbour_stops_the_render(owner_client, owner, arrangement, enqueued):
    last = arrangement.lane()[-1]
    response = owner_client.post(reverse("studio:region_change", args=[arrangement.pk, last.pk]),
                                 {"start": 3, "end": 5, "crossfade": 2.5})
    assert response.status_code == 302  # saved: the lane says what is wrong
    page = owner_client.get(arrangement.get_absolute_url()).content.decode()
    assert "Region 3: the crossfade must be shorter than this region and the one before it." in page
    assert "Render as a new song" not in page
    response = owner_client.post(reverse("studio:arrangement_render", args=[arrangement.pk]),
                                 {"idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 400 and "crossfade must be shorter" in response.content.decode()
    assert not Transform.objects.filter(mode=Transform.Mode.ARRANGEMENT).exists()


def test_the_region_and_length_caps_hold(owner, project, two_songs, settings):
    arrangement = Arrangement.objects.create(project=project, name="Long")
    for _ in range(Arrangement.MAX_REGIONS):
        arrangement.add_region(two_songs[0], 0, 6)
    with pytest.raises(ValueError, match="at most 20 regions"):
        arrangement.add_region(two_songs[0], 0, 6)
    settings.RIFFWEB_AUDIO_MAX_SECONDS = 60
    assert "The mix would be 120 seconds long; the limit is 60." in arrangement.problems()


def test_a_re_sent_render_form_makes_one_song(owner_client, arrangement, enqueued):
    key = str(uuid.uuid4())
    url = reverse("studio:arrangement_render", args=[arrangement.pk])
    owner_client.post(url, {"idempotency_key": key})
    owner_client.post(url, {"idempotency_key": key})
    assert Transform.objects.filter(arrangement=arrangement).count() == 1
    assert owner_client.post(url, {"idempotency_key": "nope"}).status_code == 400


def test_viewers_see_the_lane_but_not_its_controls(client, project, arrangement):
    client.force_login(add_member(project, "vic", "viewer"))
    page = client.get(arrangement.get_absolute_url()).content.decode()
    assert "Preview in the browser" in page
    assert "Render as a new song" not in page and "Add region" not in page
