"""Dialect B accounts against the engine: the `user_id` a create answers is kept per job and
sent on the calls about it (the engine refuses them otherwise); RIFFWEB_UPSTREAM_USER_ID names
the account on creates and uploads; RIFFWEB_UPSTREAM_MAX_JOBS is sent as maxJobs and checked."""

import time

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from riffweb.studio.models import Song, SongFile, Transform, Upload
from riffweb.studio.tasks import fetch_song_file
from riffweb.upstream import tracker
from riffweb.upstream.submit import submit_transform
from riffweb.upstream.uploads import send_upload
from tests.cluster import running_engine
from tests.conftest import make_request, tone_wav


def compose(project, owner, title="Harbour"):
    return make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}],
                        dialect="useapi", model="FUZZ-0.8", title=title)


def pump_until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, list(Song.objects.values_list("status", "failure", "error_detail"))
        tracker.run_pump(seconds=0.2)


def test_the_account_a_create_names_is_kept_and_sent_on_polls_and_downloads(upstream_at, project, owner, db):
    with running_engine(render_delay=0.3, song_seconds=5.0, check_user_id=True, user_id="acct-engine") as engine:
        upstream_at(engine.url, dialect="useapi")
        transform = compose(project, owner)
        assert submit_transform(transform.pk) == "submitted"
        transform.refresh_from_db()
        assert transform.upstream_accounts == {transform.upstream_ids[0]: "acct-engine"}
        pump_until(lambda: all(s.is_finished for s in transform.songs.all()))
        assert [s.status for s in transform.songs.all()] == [Song.Status.DONE] * 2
        song = transform.songs.get(variant=0)
        wanted = SongFile.objects.create(song=song, kind=SongFile.Kind.WAV)
        assert fetch_song_file(wanted.pk) == "ready"
        assert "wrong_account" not in engine.app.stats()["counts"]


def test_without_the_account_the_engine_refuses_the_polls(upstream_at, project, owner, db):
    """The test above can fail: a job whose account was not kept is refused (400) on every poll."""
    with running_engine(render_delay=0.3, song_seconds=5.0, check_user_id=True, user_id="acct-engine") as engine:
        upstream_at(engine.url, dialect="useapi")
        transform = compose(project, owner)
        assert submit_transform(transform.pk) == "submitted"
        Transform.objects.filter(pk=transform.pk).update(upstream_accounts={})
        tracker.run_pump(seconds=1.0)
        assert engine.app.stats()["counts"]["wrong_account"] >= 1
        assert not transform.songs.filter(status=Song.Status.DOWNLOADING).exists()


def test_the_configured_account_and_max_jobs_are_sent_on_creates_and_uploads(upstream_at, project, owner, db):
    with running_engine(render_delay=30, song_seconds=5.0, check_user_id=True) as engine:
        upstream_at(engine.url, dialect="useapi", RIFFWEB_UPSTREAM_USER_ID="acct-9", RIFFWEB_UPSTREAM_MAX_JOBS="1")
        first = compose(project, owner, title="First")
        assert submit_transform(first.pk) == "submitted"
        assert [job.user_id for job in engine.app.jobs.jobs.values()] == ["acct-9"]
        # maxJobs=1 reached the engine: the account's second job waits (429, busy with 1 job).
        second = compose(project, owner, title="Second")
        assert submit_transform(second.pk) == "retry"
        assert "busy with 1 job" in second.songs.first().card_message()



def test_uploads_name_the_configured_account_on_sending_and_status_calls(upstream_at, project, owner, db):
    with running_engine(render_delay=0.4, check_user_id=True) as engine:
        upstream_at(engine.url, dialect="useapi", RIFFWEB_UPSTREAM_USER_ID="acct-9")
        upload = Upload(project=project, created_by=owner, title="Take", audio_format="wav", duration=2.0)
        upload.audio.save("take.wav", ContentFile(tone_wav(2.0)), save=False)
        upload.save()
        assert send_upload(upload.pk) == "pending"
        assert [u.user_id for u in engine.app.jobs.uploads.values()] == ["acct-9"]
        pump_until(lambda: Upload.objects.get(pk=upload.pk).status != Upload.Status.PROCESSING)
        assert "wrong_account" not in engine.app.stats()["counts"]
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.READY


@pytest.mark.parametrize("value", ["0", "11", "ten", "-1"])
def test_max_jobs_out_of_range_is_refused_at_start_up(settings, db, value):
    settings.RIFFWEB_UPSTREAM_MAX_JOBS = value
    with pytest.raises(SystemCheckError, match="riffweb.upstream.E002"):
        call_command("check")


@pytest.mark.parametrize("value", [None, "1", "10", 6])
def test_max_jobs_in_range_or_unset_passes(settings, db, value):
    settings.RIFFWEB_UPSTREAM_MAX_JOBS = value
    call_command("check")
