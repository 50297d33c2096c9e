"""Dialect B: callbacks carry the news; forged, duplicated and late ones are harmless."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from riffweb.studio.models import Song, Transform
from riffweb.upstream import tracker
from riffweb.upstream.callbacks import reply_ref
from riffweb.upstream.submit import submit_transform
from tests.cluster import running_engine
from tests.conftest import make_request


def song_object(track_id, status="processing", progress=40, url=""):
    return {"id": track_id, "status": status, "progress": progress, "download_url": url or None, "title": "T"}


CALLBACK = reverse("upstream:callback")


def post(client, transform, payload, ref=None):
    """A callback as the upstream sends it: our `replyRef` echoed in the body."""
    return client.post(CALLBACK, {**payload, "replyRef": ref or reply_ref(transform)}, content_type="application/json")


@pytest.fixture
def submitted(stub, upstream_at, project, owner, settings):
    upstream_at(stub.url, dialect="useapi", RIFFWEB_PUBLIC_URL="http://testserver")
    transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano", "strength": 0.5}])
    assert submit_transform(transform.pk) == "submitted"
    transform.refresh_from_db()
    return transform


@pytest.mark.django_db
def test_the_reply_url_carries_no_secret_and_the_reply_ref_an_unguessable_one(stub, submitted):
    """Access logs record URLs, not bodies: the secret travels in replyRef, which the upstream echoes."""
    body = stub.requests[-1][2]
    assert body["replyUrl"] == "http://testserver/upstream/callback/"
    assert submitted.callback_secret not in body["replyUrl"]
    assert body["replyRef"] == f"{submitted.pk}.{submitted.callback_secret}"
    assert len(submitted.callback_secret) >= 32


@pytest.mark.django_db
def test_a_forged_callback_changes_nothing(client, submitted):
    payload = {"songs": [song_object("x1", "completed", 100, "http://evil.test/a.mp3")]}
    assert post(client, submitted, payload, ref=f"{submitted.pk}.guess").status_code == 404
    assert post(client, submitted, payload, ref=str(submitted.pk)).status_code == 404
    assert client.post(CALLBACK, payload, content_type="application/json").status_code == 404
    assert not Song.objects.filter(transform=submitted).exclude(status=Song.Status.RUNNING).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("secret", ["ünïcødé-sécret", "\ud800", "秘密" * 40, ""])
def test_a_non_ascii_secret_is_refused_like_any_wrong_one(client, submitted, secret):
    """hmac.compare_digest raised TypeError on non-ASCII text: a 500 an outsider could trigger."""
    assert post(client, submitted, {"songs": []}, ref=f"{submitted.pk}.{secret}").status_code == 404


@pytest.mark.django_db
def test_an_unknown_request_and_a_wrong_secret_answer_the_same(client, submitted):
    """A 404 for one and a 500 for the other told an outsider which request ids exist."""
    answers = [
        post(client, submitted, {"songs": []}, ref=ref)
        for ref in (f"{submitted.pk}.wrong", f"{submitted.pk + 1000}.wrong", f"{2**64}.x", "x.y", "é.ü")
    ]
    assert {(a.status_code, a.content) for a in answers} == {(answers[0].status_code, answers[0].content)}
    assert answers[0].status_code == 404


@pytest.mark.django_db
def test_deeply_nested_json_is_refused_without_a_crash(client, submitted):
    """Python's JSON parser recurses: 100,000 open brackets raised RecursionError (a 500)."""
    body = "[" * 100_000 + "]" * 100_000
    assert client.post(CALLBACK, body, content_type="application/json").status_code == 400
    nested = '{"replyRef": "%s", "songs": %s}' % (reply_ref(submitted), "[" * 100_000 + "]" * 100_000)
    assert client.post(CALLBACK, nested, content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_progress_callbacks_move_songs_forward_and_push_polling_back(client, submitted, settings):
    payload = {"songs": [song_object("a"), song_object("b", progress=55)]}
    assert post(client, submitted, payload).status_code == 200
    songs = list(submitted.songs.order_by("variant"))
    assert [(s.upstream_id, s.progress) for s in songs] == [("a", 40), ("b", 55)]
    safety = timezone.now().timestamp() + settings.RIFFWEB_CALLBACK_SAFETY_POLL - 5
    assert all(s.next_poll_at.timestamp() > safety for s in songs)


@pytest.mark.django_db
def test_duplicate_and_out_of_order_callbacks_are_harmless(client, submitted, stub):
    done = {"songs": [
        song_object("a", "completed", 100, f"{stub.url}/audio/a.wav"),
        song_object("b", "completed", 100, f"{stub.url}/audio/b.wav"),
    ]}
    late = {"songs": [song_object("b", "processing", 10), song_object("a", "queued", 0)]}
    assert post(client, submitted, done).status_code == 200
    assert post(client, submitted, done).status_code == 200
    assert post(client, submitted, late).status_code == 200
    assert {s.status for s in submitted.songs.all()} == {Song.Status.DOWNLOADING}
    tracker.run_pump(seconds=0.5)
    songs = list(submitted.songs.order_by("variant"))
    assert [(s.upstream_id, s.status) for s in songs] == [("a", Song.Status.DONE), ("b", Song.Status.DONE)]
    assert stub.calls["audio"] == 2
    assert post(client, submitted, late).status_code == 200
    assert {s.status for s in submitted.songs.all()} == {Song.Status.DONE}


@pytest.mark.django_db
def test_a_failed_callback_fails_the_song_with_its_reason(client, submitted):
    payload = {"songs": [
        {"id": "a", "status": "failed", "error": "render failed"}, song_object("b"),
    ]}
    post(client, submitted, payload)
    song = submitted.songs.get(variant=0)
    assert song.status == Song.Status.FAILED and "render failed" in song.error


@pytest.mark.django_db
def test_an_unreadable_callback_is_refused_without_a_crash(client, submitted):
    assert client.post(CALLBACK, "{not json", content_type="application/json").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_job_finished_by_callback_is_never_polled(live_server, upstream_at, project, owner):
    with running_engine(render_delay=0.5) as engine:
        upstream_at(engine.url, dialect="useapi", RIFFWEB_PUBLIC_URL=live_server.url)
        transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}], model="FUZZ-0.8")
        submit_transform(transform.pk)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(s.is_finished for s in transform.songs.all()):
            tracker.run_pump(seconds=0.3)
        counts = engine.stats()["counts"]
    assert [s.status for s in transform.songs.all()] == [Song.Status.DONE] * 2
    assert counts.get("feed", 0) == 0  # no status call: the callbacks said it all
    assert counts["callbacks_sent"] >= 2


@pytest.mark.django_db
def test_a_callback_for_a_create_that_got_no_answer_adopts_it(client, stub, upstream_at, project, owner, monkeypatch):
    from riffweb.upstream import client as upstream

    upstream_at(stub.url, dialect="useapi", RIFFWEB_PUBLIC_URL="http://testserver")
    monkeypatch.setattr(upstream, "CREATE_TIMEOUT", (1, 0.3))
    stub.fail("create", "hang:1")
    transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}])
    assert submit_transform(transform.pk) == "unknown"
    time.sleep(1)  # the stub finishes the create it was still working on
    payload = {"job_id": "job-x", "songs": [
        song_object("a", "completed", 100, f"{stub.url}/audio/a.wav"), song_object("b", "processing", 50),
    ]}
    assert post(client, transform, payload).status_code == 200
    transform.refresh_from_db()
    assert transform.status == Transform.Status.SUBMITTED and transform.upstream_ids == ["job-x"]
    songs = list(transform.songs.order_by("variant"))
    assert [s.status for s in songs] == [Song.Status.DOWNLOADING, Song.Status.RUNNING]
    assert all(s.error == "" for s in songs)
    assert stub.calls["create"] == 1  # adopted, not resent


@pytest.mark.django_db(transaction=True)
def test_a_job_that_a_callback_ends_short_ends_its_missing_song_at_once(live_server, upstream_at, project, owner):
    """A one-song job told by callback: the card the job left out ends as "fewer", not after the
    safety poll (set far beyond the test's deadline here)."""
    from riffweb.studio.models import Failure

    with running_engine(render_delay=0.5, songs_per_job=1) as engine:
        upstream_at(engine.url, dialect="useapi", RIFFWEB_PUBLIC_URL=live_server.url,
                    RIFFWEB_CALLBACK_SAFETY_POLL=600)
        transform = make_request(project, owner, mode=Transform.Mode.COMPOSE, prompts=[{"text": "piano"}], model="FUZZ-0.8")
        submit_transform(transform.pk)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(s.is_finished for s in transform.songs.all()):
            tracker.run_pump(seconds=0.3)
        assert engine.stats()["counts"]["callbacks_sent"] >= 1
    songs = list(transform.songs.order_by("variant"))
    assert [s.status for s in songs] == [Song.Status.DONE, Song.Status.FAILED]
    assert songs[1].failure == Failure.FEWER
