"""WAV and stems (dialect B's download call) against the engine: asked for on the song page,
fetched by the worker task, kept, served again without another call; greyed on dialect A;
failures say what happened and may be asked again; deleting the song deletes them."""

import io
import time
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from riffweb import audio, queue
from riffweb.library.tasks import empty_trash
from riffweb.studio.models import Song, SongFile, Transform
from riffweb.studio.tasks import fetch_song_file
from riffweb.upstream import tracker
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import finish_song, make_request

HTMX = {"HX-Request": "true"}


def b_song(project, owner, **fields) -> Song:
    """A finished dialect B song, made by the engine and stored by the pipeline."""
    transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}],
                             dialect="useapi", model="FUZZ-0.8", **fields)
    assert submit_transform(transform.pk) == "submitted"
    deadline = time.monotonic() + 30
    while not all(s.is_finished for s in transform.songs.all()):
        assert time.monotonic() < deadline, list(transform.songs.values_list("status", flat=True))
        tracker.run_pump(seconds=0.2)
    song = transform.songs.get(variant=0)
    assert song.status == Song.Status.DONE
    return song


def asked(sent) -> list[int]:
    return [args[0] for func, args in sent if func == queue.FETCH_SONG_FILE]


def ask(client, song, kind):
    return client.post(reverse("studio:song_file_ask", args=[song.pk, kind]), headers=HTMX)


def test_a_viewer_asks_for_the_wav_sees_preparing_then_downloads_it_and_it_is_kept(
        upstream_at, project, owner, viewer, client, _no_queue, django_capture_on_commit_callbacks):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        song = b_song(project, owner)
        client.force_login(viewer)
        with django_capture_on_commit_callbacks(execute=True):
            answer = ask(client, song, "wav")
        assert answer.status_code == 200 and "Preparing WAV…" in answer.text
        assert 'hx-trigger="every 2s"' in answer.text
        [file_id] = asked(_no_queue)
        assert fetch_song_file(file_id) == "ready", SongFile.objects.values_list("error", "error_detail").get()
        calls = engine.app.stats()["counts"]["download"]

        poll = client.get(reverse("studio:song_files", args=[song.pk]), headers=HTMX)
        assert poll.status_code == 286 and "Download WAV" in poll.text and "every 2s" not in poll.text
        wav = client.get(reverse("studio:song_file", args=[song.pk, "wav"]))
        data = b"".join(wav.streaming_content)
        assert wav["Content-Type"] == "audio/wav" and 'filename="neon-rain-a.wav"' in wav["Content-Disposition"]
        decoded = audio.decode(data)
        assert decoded.format == "wav" and decoded.duration == pytest.approx(song.duration, abs=0.05)

        # Asking again (another member, another click) serves the kept file: no task, no call.
        with django_capture_on_commit_callbacks(execute=True):
            again = ask(client, song, "wav")
        assert "Download WAV" in again.text and asked(_no_queue) == [file_id]
        assert engine.app.stats()["counts"]["download"] == calls


def test_stems_are_fetched_checked_and_zipped_one_wav_per_stem(
        upstream_at, project, owner, owner_client, _no_queue, django_capture_on_commit_callbacks):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        song = b_song(project, owner)
        with django_capture_on_commit_callbacks(execute=True):
            assert "Preparing stems (zip)…" in ask(owner_client, song, "stems").text
        assert fetch_song_file(asked(_no_queue)[0]) == "ready"
    answer = owner_client.get(reverse("studio:song_file", args=[song.pk, "stems"]))
    assert answer["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    assert bundle.namelist() == ["vocals.wav", "instrumental.wav"]
    for name in bundle.namelist():
        stem = audio.decode(bundle.read(name))
        assert stem.duration == pytest.approx(song.duration, abs=0.05)
    assert audio.decode(bundle.read("instrumental.wav")).samples.std() > 0.01


def test_dialect_a_greys_both_downloads_with_the_reason(owner_client, done_song, _no_queue):
    page = owner_client.get(done_song.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('<button type="button" disabled aria-describedby="file-reason-') == 2
    assert "This music service (Riffusion API) has no WAV download" in text
    assert "This music service (Riffusion API) has no stems download" in text
    refused = ask(owner_client, done_song, "wav")
    assert refused.status_code == 400 and "has no WAV download" in refused.content.decode()
    assert not SongFile.objects.exists() and not asked(_no_queue)


@pytest.mark.parametrize(("fault", "message"), [
    ("outage", "The music service is failing right now. Ask again in a while."),
    ("429", "The music service is busy right now. Ask again in a minute."),
    ("oversize", "We could not fetch the file: The file is too large."),
    ("596", "The music service account needs attention; our team has been told. Ask again later."),
])
def test_a_failed_fetch_says_why_and_can_be_asked_again(
        upstream_at, project, owner, owner_client, settings, _no_queue, django_capture_on_commit_callbacks,
        fault, message):
    with running_engine(render_delay=0.3, song_seconds=5.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        song = b_song(project, owner)
        limit = settings.RIFFWEB_AUDIO_MAX_BYTES
        if fault == "outage":
            engine.app.set_outage(True)
        elif fault == "oversize":
            settings.RIFFWEB_AUDIO_MAX_BYTES = 10_000
        else:
            rate = {"429": "fault_rate_429", "596": "fault_rate_596"}[fault]
            engine.app.config = replace(engine.app.config, **{rate: 1.0})
        with django_capture_on_commit_callbacks(execute=True):
            ask(owner_client, song, "wav")
        assert fetch_song_file(asked(_no_queue)[-1]) == "failed"
        shown = owner_client.get(reverse("studio:song_files", args=[song.pk]), headers=HTMX)
        assert shown.status_code == 286 and message in shown.text and "Download WAV</button>" in shown.text

        engine.app.set_outage(False)
        settings.RIFFWEB_AUDIO_MAX_BYTES = limit
        engine.app.config = replace(engine.app.config, fault_rate_596=0.0, fault_rate_429=0.0)
        with django_capture_on_commit_callbacks(execute=True):
            assert "Preparing WAV…" in ask(owner_client, song, "wav").text
        assert fetch_song_file(asked(_no_queue)[-1]) == "ready"
    assert "Download WAV</a>" in owner_client.get(reverse("studio:song_files", args=[song.pk]), headers=HTMX).text


def test_emptying_the_trash_and_deleting_the_project_delete_the_kept_files(
        project, owner, settings, django_capture_on_commit_callbacks):
    first, second = (finish_song(s) for s in make_request(project, owner).songs.order_by("variant"))
    names = []
    for song in (first, second):
        kept = SongFile(song=song, kind=SongFile.Kind.WAV, status=SongFile.Status.READY, size=3)
        kept.file.save("kept.wav", io.BytesIO(b"RIF"), save=True)
        names.append(kept.file.name)
    first.trash()
    Song.objects.filter(pk=first.pk).update(deleted_at=timezone.now() - timedelta(days=settings.RIFFWEB_TRASH_DAYS + 1))
    assert empty_trash() == 1
    assert not default_storage.exists(names[0]) and default_storage.exists(names[1])
    with django_capture_on_commit_callbacks(execute=True):
        project.delete_with_files()
    assert not default_storage.exists(names[1]) and not SongFile.objects.exists()
