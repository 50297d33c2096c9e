""""Write lyrics for me" against the engine: a draft is written by the worker task, a busy or broken
service ends it with a message the musician can act on, and dialect A refuses with the reason."""

from riffweb import queue
from riffweb.studio.models import LyricsDraft
from riffweb.upstream import dialects
from riffweb.upstream.lyrics_help import write_lyrics
from riffweb.upstream.models import UpstreamState
from tests.cluster import running_engine


def ask(project, owner, prompt="harbour lights at night", dialect="useapi") -> LyricsDraft:
    return LyricsDraft.objects.create(project=project, created_by=owner, prompt=prompt, dialect=dialect)


def test_the_engine_writes_structured_lyrics_and_the_same_for_the_same_prompt(upstream_at, project, owner, db):
    with running_engine() as engine:
        upstream_at(engine.url, dialect="useapi")
        first, second = ask(project, owner), ask(project, owner)
        assert write_lyrics(first.pk) == "done"
        assert write_lyrics(first.pk) == "not due"  # safe to run twice
        write_lyrics(second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == LyricsDraft.Status.DONE and first.is_finished
    assert first.lyrics.startswith("[Verse]\n") and "[Chorus]" in first.lyrics and "harbour" in first.lyrics
    assert second.lyrics == first.lyrics


def test_a_busy_service_ends_the_draft_with_a_message(upstream_at, project, owner, db):
    with running_engine(fault_rate_429=1.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        draft = ask(project, owner)
        assert write_lyrics(draft.pk) == "failed"
    draft.refresh_from_db()
    assert draft.status == LyricsDraft.Status.FAILED
    assert draft.error == "The music service is busy. Try again in a minute."
    assert "Too Many Requests" in draft.error_detail


def test_a_busy_account_says_how_many_jobs_it_runs():
    from riffweb.upstream import client
    from riffweb.upstream.lyrics_help import failure_message

    body = {"error": "Account a is busy executing 2 jobs", "runningJobs": {"a": [{"job_id": "1"}, {"job_id": "2"}]}}
    busy = client.UpstreamBusy("busy", 10, running_jobs=client.busy_jobs(body))
    assert failure_message(busy) == "The music service is busy with 2 jobs. Try again in a minute."


def test_596_tells_the_musician_and_raises_the_staff_banner(upstream_at, project, owner, db):
    with running_engine(fault_rate_596=1.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        draft = ask(project, owner)
        write_lyrics(draft.pk)
    draft.refresh_from_db()
    assert draft.error.startswith("The music service account needs attention")
    assert "596" in UpstreamState.get().attention


def test_a_failing_service_ends_the_draft(upstream_at, project, owner, db):
    with running_engine(fault_rate_5xx=1.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        draft = ask(project, owner)
        write_lyrics(draft.pk)
    draft.refresh_from_db()
    assert draft.error == "The music service is not answering right now. Try again in a while."


def test_dialect_a_writes_no_lyrics_and_says_why(upstream_at, project, owner, db):
    with running_engine() as engine:
        upstream_at(engine.url, dialect="riffusion")
        draft = ask(project, owner, dialect="riffusion")
        assert write_lyrics(draft.pk) == "not offered"
        calls = engine.stats()["counts"]
    draft.refresh_from_db()
    assert draft.status == LyricsDraft.Status.FAILED
    assert draft.error == dialects.reason("lyrics_help", "riffusion")
    assert "does not write lyrics" in draft.error
    assert not calls.get("lyrics")


def test_starting_a_draft_hands_it_to_the_worker_on_commit(project, owner, db, django_capture_on_commit_callbacks, _no_queue):
    with django_capture_on_commit_callbacks(execute=True):
        draft = LyricsDraft.objects.start(project=project, user=owner, prompt="rain", dialect="useapi")
    assert _no_queue == [(queue.WRITE_LYRICS, (draft.pk,))]
