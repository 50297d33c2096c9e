"""Each answer the API documentation allows, on demand: one-song jobs, 429 bodies with
Retry-After, 596, upload status words, file names without an extension, B's models, and a
feed with more ids than the service takes."""

import subprocess
import sys

import pytest
import requests

from riffweb.engine.server import EngineConfig, EngineServer

from .conftest import post, tone_wav, wait_tracks
from .test_dialect_b import wait_job

SHORT = {"tag": "pop", "instrumental": True, "duration": 30}
MUSIC = "/v1/riffusion/music/"


def test_a_dialect_b_job_may_hold_one_song():
    with EngineServer(EngineConfig(render_delay=0.0, song_seconds=5.0, songs_per_job=1)).start() as server:
        job = post(server, MUSIC + "create-compose", {"prompt_1": "house"}).json()["job_id"]
        songs = wait_job(server, job)
        assert len(songs) == 1 and songs[0]["status"] == "completed"
        theme = post(server, MUSIC + "create-prompt", {"prompt": "a harbour at night"}).json()["job_id"]
        assert len(wait_job(server, theme)) == 1
        # Dialect A is unchanged: two tracks per request.
        assert len(post(server, "/riffusion/generate", SHORT).json()["jobs"]) == 2


def test_the_create_answer_names_the_account_that_took_the_job(engine):
    mine = post(engine, MUSIC + "create-prompt", {"prompt": "rain", "user_id": "ana"}).json()
    assert mine["user_id"] == "ana" and mine["job_id"]
    default = post(engine, MUSIC + "create-compose", {"prompt_1": "house", "duration": 30}).json()
    assert default["user_id"] == "engine"


def test_retry_after_is_sent_with_every_429_when_configured():
    config = EngineConfig(render_delay=30.0, song_seconds=5.0, max_jobs=1, retry_after=17)
    with EngineServer(config).start() as server:
        assert post(server, "/riffusion/generate", SHORT).status_code == 200
        for path, body in (("/riffusion/generate", SHORT), (MUSIC + "create-prompt", {"prompt": "rain"})):
            answer = post(server, path, body)
            assert answer.status_code == 429 and answer.headers["Retry-After"] == "17"
    with EngineServer(EngineConfig(render_delay=0.0, fault_rate_429=1.0, retry_after=12)).start() as server:
        answer = requests.get(server.url + "/riffusion/feed/" + "a" * 32, timeout=10)
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "12"
        assert answer.json() == {"detail": "Too Many Requests"}


def test_596_can_answer_any_call_even_downloads():
    with EngineServer(EngineConfig(render_delay=0.0, fault_rate_596=1.0)).start() as server:
        calls = [
            post(server, "/riffusion/generate", SHORT),
            requests.get(server.url + "/riffusion/feed/" + "a" * 32, timeout=10),
            requests.get(server.url + MUSIC, params={"id": "a" * 32}, timeout=10),
            requests.get(server.url + MUSIC + "download/", params={"id": "a" * 32}, timeout=10),
            requests.post(server.url + MUSIC + "upload-audio/", data=tone_wav(2.0), headers={"Content-Type": "audio/wav"}),
        ]
        for answer in calls:
            assert answer.status_code == 596, answer.request.url
            assert answer.json()["code"] == 596 and "pending error" in answer.json()["error"]
        assert server.stats()["counts"]["fault_596"] == len(calls)
        assert server.stats()["tracks"] == {}  # a refused create starts nothing


def test_596_follows_its_rate_and_leaves_the_other_faults_sequence_alone():
    def statuses(**faults):
        with EngineServer(EngineConfig(render_delay=30.0, seed_faults=3, **faults)).start() as server:
            return [requests.get(server.url + "/riffusion/feed/" + "a" * 32, timeout=10).status_code for _ in range(60)]

    plain = statuses(fault_rate_429=0.3)
    mixed = statuses(fault_rate_429=0.3, fault_rate_596=0.25)
    assert 5 <= mixed.count(596) <= 30
    # Where 596 did not strike, each call answers exactly as it did without it.
    assert all(m == p for m, p in zip(mixed, plain) if m != 596)


@pytest.mark.parametrize("word", ["completed", "ready", "processed"])
def test_the_upload_reports_the_configured_word_once_processed(word):
    with EngineServer(EngineConfig(render_delay=0.0, upload_ready_status=word)).start() as server:
        answer = requests.post(
            server.url + MUSIC + "upload-audio/", params={"file_name": "demo take"},
            data=tone_wav(3.0), headers={"Content-Type": "audio/wav"}, timeout=30,
        )
        assert answer.status_code == 200, answer.text
        status = requests.get(server.url + MUSIC + "upload-audio/", params={"id": answer.json()["audio_upload_id"]}).json()
        assert status["status"] == word and status["file_name"] == "demo take"


def test_dialect_b_refuses_a_model_it_does_not_have_and_names_the_field(engine):
    for path, body in ((MUSIC + "create-compose", {"prompt_1": "house"}), (MUSIC + "create-prompt", {"prompt": "rain"})):
        answer = post(engine, path, {**body, "model": "FUZZ-1.1"})
        assert answer.status_code == 400 and answer.json() == {"error": "model: must be one of FUZZ-0.8", "code": 400}
        assert post(engine, path, {**body, "model": "FUZZ-0.8", "duration": 30}).status_code == 200


def feed_server(**options) -> tuple[EngineServer, list[str]]:
    """An engine with the feed options given, and five finished tracks to ask about."""
    server = EngineServer(EngineConfig(render_delay=0.0, song_seconds=5.0, **options)).start()
    ids = [j["id"] for _ in range(3) for j in post(server, "/riffusion/generate", SHORT).json()["jobs"]][:5]
    wait_tracks(server, ids[:3])
    return server, ids


@pytest.mark.parametrize(
    "overflow, status, body",
    [
        ("400", 400, {"error": "ids: at most 3 per call", "code": 400}),
        ("414", 414, {"detail": "Request-URI Too Long"}),
    ],
)
def test_a_feed_with_more_ids_than_allowed_is_refused_as_configured(overflow, status, body):
    server, ids = feed_server(max_feed_ids=3, feed_overflow=overflow)
    with server:
        answer = requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}", timeout=10)
        assert answer.status_code == status and answer.json() == body
        assert requests.get(f"{server.url}/riffusion/feed/{','.join(ids[:3])}", timeout=10).status_code == 200


def test_a_truncating_feed_answers_fewer_tracks_than_asked():
    server, ids = feed_server(max_feed_ids=3, feed_overflow="truncate")
    with server:
        answer = requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}", timeout=10)
        assert answer.status_code == 200 and [t["id"] for t in answer.json()] == ids[:3]


def test_without_a_feed_limit_any_number_of_ids_is_answered():
    server, ids = feed_server(max_feed_ids=None)
    with server:
        many = ids * 30  # 150 ids: more than the default limit of 100
        assert len(requests.get(f"{server.url}/riffusion/feed/{','.join(many)}", timeout=10).json()) == 150


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("songs_per_job", 0, "songs_per_job: must be at least 1"),
        ("feed_overflow", "413", "feed_overflow: must be one of 400, 414, truncate"),
        ("max_feed_ids", 0, "max_feed_ids: must be at least 1"),
    ],
)
def test_impossible_options_are_refused_at_start(field, value, message):
    with pytest.raises(ValueError, match=message):
        EngineServer(EngineConfig(**{field: value})).start()


def test_the_command_line_takes_the_answer_options():
    process = subprocess.Popen(
        [sys.executable, "-m", "riffweb.engine", "--port", "0", "--render-delay", "0", "--song-seconds", "5",
         "--songs-per-job", "1", "--max-feed-ids", "1", "--feed-overflow", "414", "--unknown-job", "empty",
         "--upload-ready-status", "ready"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert requests.get(f"{url}/riffusion/feed/{'a' * 32},{'b' * 32}", timeout=10).status_code == 414
        assert requests.get(url + MUSIC, params={"id": "c" * 32}, timeout=10).json() == []
        upload = requests.post(url + MUSIC + "upload-audio/", data=tone_wav(2.0), headers={"Content-Type": "audio/wav"})
        status = requests.get(url + MUSIC + "upload-audio/", params={"id": upload.json()["audio_upload_id"]}).json()
        assert status["status"] == "ready"
        job = requests.post(url + MUSIC + "create-prompt", json={"prompt": "rain"}, timeout=10).json()["job_id"]
        server = type("Server", (), {"url": url})
        assert len(wait_job(server, job)) == 1
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_with_check_user_id_calls_about_another_accounts_job_answer_400():
    with EngineServer(EngineConfig(render_delay=0.0, song_seconds=5.0, check_user_id=True)).start() as server:
        created = post(server, MUSIC + "create-compose", {"prompt_1": "house", "user_id": "acct-7"}).json()
        assert created["user_id"] == "acct-7"
        status = MUSIC + "?id=" + created["job_id"]
        for params in ("", "&user_id=someone-else"):
            answer = requests.get(server.url + status + params, timeout=30)
            assert answer.status_code == 400 and answer.json()["error"].startswith("user_id: this belongs to another")
        songs = requests.get(server.url + status + "&user_id=acct-7", timeout=30).json()
        assert len(songs) == 2
        download = requests.get(server.url + MUSIC + "download/", params={"id": songs[0]["id"]}, timeout=30)
        assert download.status_code == 400
