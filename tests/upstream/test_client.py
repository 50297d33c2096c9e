"""The client against a scripted upstream over loopback HTTP: shapes, answers, conversions."""

import pytest

from riffweb.upstream import client as upstream
from riffweb.upstream.client import Job, Prompt, Request, client_for

TOKEN = "sekrit-token-123"


@pytest.fixture
def a(stub):
    return client_for("riffusion", stub.url, TOKEN)


@pytest.fixture
def b(stub):
    return client_for("useapi", stub.url, TOKEN)


def professional():
    return Request(mode="professional", title="Neon", tags="synthwave", lyrics="[Verse]\nla")


def test_it_sends_the_token_as_a_bearer_header(stub, a):
    a.create(professional())
    assert stub.requests[-1][3]["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "body, ids, account",
    [
        ({"jobs": [{"id": "x1"}, {"id": "x2"}]}, ["x1", "x2"], ""),
        ({"job_id": "j9", "user_id": "u"}, ["j9"], "u"),
        ({"id": "solo"}, ["solo"], ""),
    ],
)
def test_it_reads_every_create_shape(stub, a, body, ids, account):
    stub.fail("create", (200, body))
    assert a.create(professional()) == [Job(i, i, account) for i in ids]


def test_a_dialect_b_create_starts_one_job_whose_tracks_come_later_on_the_account_it_names(stub, b):
    stub.fail("create", (200, {"job_id": "j9", "user_id": "u"}))
    assert b.create(professional()) == [Job("j9", user_id="u")]


def test_a_create_without_ids_is_an_upstream_error_with_the_body_kept(stub, a):
    stub.fail("create", (200, {"ok": True}))
    with pytest.raises(upstream.UpstreamUnavailable) as err:
        a.create(professional())
    assert '"ok": true' in err.value.detail


@pytest.mark.parametrize("shape", ["array", "data"])
def test_the_feed_matches_tracks_by_id_not_position(stub, a, shape):
    stub.feed_shape = shape
    ids = [job.job_id for job in a.create(professional())]
    tracks = a.poll(ids)
    assert set(tracks) == set(ids)
    assert all(tracks[i][0].id == i for i in ids)


def test_a_single_object_feed_is_read(stub, a):
    stub.fail("feed", (200, {"id": "t1", "status": "process", "process": 42, "new_field": 1}))
    track = a.poll(["t1"])["t1"][0]
    assert (track.state, track.progress) == ("running", 42)


@pytest.mark.parametrize(
    "word, state",
    [("success", "done"), ("complete", "done"), ("completed", "done"), ("failed", "failed"),
     ("render_error", "failed"), ("flagged", "failed"), ("queued", "running"), ("warming up", "running"), ("", "running")],
)
def test_status_words(word, state):
    assert upstream.track_state(word) == state


def test_a_streaming_preview_url_is_not_final(stub, a):
    stub.fail("feed", (200, [{"id": "t1", "status": "process", "process": 60, "audio_url": "http://x/preview.mp3"}]))
    track = a.poll(["t1"])["t1"][0]
    assert track.state == "running" and track.progress == 60


def test_429_honours_retry_after(stub, a):
    stub.fail("create", (429, {"detail": "Too Many Requests"}, {"Retry-After": "12"}))
    with pytest.raises(upstream.UpstreamBusy) as err:
        a.create(professional())
    assert err.value.retry_after == 12


def test_429_without_retry_after_waits_10_to_30_seconds(stub, a):
    stub.fail("create", (429, {"error": "Account x is busy executing 10 jobs", "code": 429}))
    with pytest.raises(upstream.UpstreamBusy) as err:
        a.create(professional())
    assert 10 <= err.value.retry_after <= 30


def test_5xx_is_unavailable_with_the_body_kept_and_no_token(stub, a):
    stub.fail("create", (502, f"bad gateway; you sent {TOKEN}"))
    with pytest.raises(upstream.UpstreamUnavailable) as err:
        a.create(professional())
    assert "bad gateway" in err.value.detail
    assert TOKEN not in err.value.detail and TOKEN not in str(err.value) and TOKEN not in repr(a)


def test_a_malformed_body_is_unavailable_not_a_crash(stub, a):
    stub.fail("feed", (200, "<html>oops"))
    with pytest.raises(upstream.UpstreamUnavailable) as err:
        a.poll(["t1"])
    assert "<html>oops" in err.value.detail


def test_422_is_a_moderation_rejection_with_its_reason(stub, b):
    stub.fail("create", (422, {"is_flagged": True, "reason": "moderation", "musician_replacement_data": None}))
    with pytest.raises(upstream.UpstreamRejected) as err:
        b.create(professional())
    assert err.value.reason == "moderation"
    assert "moderation" in str(err.value)


@pytest.mark.parametrize("status", [401, 596])
def test_401_and_596_need_an_operator(stub, b, status):
    stub.fail("create", (status, {"error": "Unauthorized", "code": status}))
    with pytest.raises(upstream.UpstreamAuthError):
        b.create(professional())


def test_400_is_invalid_with_the_reason(stub, b):
    stub.fail("create", (400, {"error": "prompt_1 is required", "code": 400}))
    with pytest.raises(upstream.UpstreamInvalid) as err:
        b.create(professional())
    assert err.value.reason == "prompt_1 is required"


def test_a_create_that_times_out_has_an_unknown_outcome(stub, a, monkeypatch):
    monkeypatch.setattr(upstream, "CREATE_TIMEOUT", (1, 0.3))
    stub.fail("create", "hang:1")
    with pytest.raises(upstream.UpstreamTimeout):
        a.create(professional())


def test_a_status_call_that_times_out_is_just_unavailable(stub, a, monkeypatch):
    monkeypatch.setattr(upstream, "STATUS_TIMEOUT", (1, 0.3))
    stub.fail("feed", "hang:1")
    with pytest.raises(upstream.UpstreamUnavailable):
        a.poll(["t1"])


def test_a_refused_connection_is_unavailable():
    with pytest.raises(upstream.UpstreamUnavailable):
        client_for("riffusion", "http://127.0.0.1:9", TOKEN).poll(["t1"])


def test_dialect_b_gets_percent_and_clamped_prompt_strengths(stub, b):
    req = Request(
        mode="compose", lyrics="[Verse]\nla", seed=7, lyrics_strength=0.456, weirdness=0.1,
        prompts=[Prompt("piano", strength=0.05, start=0.0, end=0.5), Prompt("drums", strength=1.0, start=0.5, end=1.0)],
    )
    b.create(req)
    method, path, body, _ = stub.requests[-1]
    assert path == "/v1/riffusion/music/create-compose"
    assert body["prompt_1"] == "piano" and body["prompt_1_strength"] == 20
    assert (body["prompt_1_start"], body["prompt_1_end"]) == (0, 50)
    assert body["prompt_2_strength"] == 100 and body["prompt_2_start"] == 50
    assert body["lyrics_strength"] == 46 and body["lyrics_weirdness"] == 10 and body["seed"] == 7


def test_dialect_a_gets_0_to_1_strengths_in_morph(stub, a):
    req = Request(mode="extend", riff_id="r1", extend_at=42.5, cover_strength=0.7, weirdness=1.4)
    a.create(req)
    method, path, body, _ = stub.requests[-1]
    assert path == "/riffusion/generate"
    assert body["morph"] == {
        "transform": "extend", "riff_id": "r1", "crop_end_at": 42.5, "normalized_weirdness": 1.0,
    }  # cover strength is cover's alone


def test_dialect_b_refuses_what_it_cannot_do(b):
    with pytest.raises(upstream.UpstreamInvalid):
        b.create(Request(mode="swap_vocals", riff_id="r1"))
