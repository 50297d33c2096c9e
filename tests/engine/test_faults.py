"""Auth, moderation, capacity and injected faults (the errors of riffweb/upstream/API.md)."""

import threading
import time
from collections import Counter

import requests

from riffweb.engine.server import EngineConfig, EngineServer

from .conftest import post, wait_tracks

SHORT = {"tag": "pop", "instrumental": True, "duration": 30}
COMPOSE = "/v1/riffusion/music/create-compose"


def test_a_configured_token_is_required_on_api_calls_but_not_on_health_or_stats():
    with EngineServer(EngineConfig(render_delay=0.0, token="s3cret")).start() as server:
        missing = post(server, "/riffusion/generate", SHORT)
        wrong = post(server, "/riffusion/generate", SHORT, headers={"Authorization": "Bearer nope"})
        for answer in (missing, wrong):
            assert answer.status_code == 401 and answer.json() == {"error": "Unauthorized", "code": 401}
        assert requests.get(server.url + "/v1/riffusion/music/").status_code == 401
        good = post(server, "/riffusion/generate", SHORT, headers={"Authorization": "Bearer s3cret"})
        assert good.status_code == 200
        assert requests.get(server.url + "/_engine/health").status_code == 200
        assert requests.get(server.url + "/_engine/stats").json()["counts"]["unauthorized"] == 3


def test_moderated_words_answer_422_in_both_dialects(engine):
    flagged = {"is_flagged": True, "reason": "moderation", "musician_replacement_data": None}
    for path, body in (
        ("/riffusion/generate", {"tag": "pop", "lyrics": "a FORBIDDEN line"}),
        ("/riffusion/generate/topic", {"topic": "forbidden love"}),
        (COMPOSE, {"prompt_1": "pop", "prompt_2": "forbidden jazz"}),
        ("/v1/riffusion/music/create-prompt", {"prompt": "forbidden"}),
    ):
        answer = post(engine, path, body)
        assert answer.status_code == 422 and answer.json() == flagged, path


def test_the_failing_render_trigger_ends_tracks_failed_with_an_error(engine):
    answer = post(engine, "/riffusion/generate", {"tag": "pop failrender", "duration": 30})
    assert answer.status_code == 200
    tracks = wait_tracks(engine, [j["id"] for j in answer.json()["jobs"]])
    assert [t["status"] for t in tracks] == ["failed", "failed"]
    assert "failing-render trigger" in tracks[0]["error"] and "audio_url" not in tracks[0]
    b = post(engine, COMPOSE, {"prompt_1": "failrender", "duration": 30}).json()
    songs = requests.get(engine.url + "/v1/riffusion/music/", params={"id": b["job_id"]}).json()
    while any(s["status"] not in ("completed", "failed") for s in songs):
        time.sleep(0.05)
        songs = requests.get(engine.url + "/v1/riffusion/music/", params={"id": b["job_id"]}).json()
    assert {s["status"] for s in songs} == {"failed"} and songs[0]["error"]


def test_a_full_queue_answers_429_with_running_jobs():
    with EngineServer(EngineConfig(render_delay=30.0, max_jobs=2)).start() as server:
        assert post(server, "/riffusion/generate", SHORT).status_code == 200
        first = post(server, COMPOSE, {"prompt_1": "pop", "duration": 30, "user_id": "ana", "maxJobs": 1})
        assert first.status_code == 200
        mine = post(server, COMPOSE, {"prompt_1": "pop", "duration": 30, "user_id": "ana", "maxJobs": 1})
        assert mine.status_code == 429
        body = mine.json()
        assert body["code"] == 429 and body["error"] == "Account ana is busy executing 1 jobs"
        [running] = body["runningJobs"]["ana"]
        assert running["user_id"] == "ana" and running["job_id"] == first.json()["job_id"]
        assert running["started"].endswith("Z") and running["replyUrl"] is None and running["replyRef"] is None
        assert "Retry-After" not in mine.headers  # the documentation shows no such header
        full = post(server, "/riffusion/generate", SHORT)
        assert full.status_code == 429 and full.json() == {"detail": "Too Many Requests"}


def test_injected_faults_follow_their_rates_and_repeat_with_the_same_seed():
    def outcomes(seed):
        config = EngineConfig(
            render_delay=30.0, fault_rate_429=0.2, fault_rate_5xx=0.2, fault_rate_malformed=0.2, seed_faults=seed
        )
        with EngineServer(config).start() as server:
            seen = []
            for _ in range(60):
                answer = requests.get(server.url + "/riffusion/feed/" + "a" * 32)
                try:
                    answer.json()
                    kind = answer.status_code
                except ValueError:
                    kind = "malformed"
                seen.append(kind)
            assert requests.get(server.url + "/_engine/health").status_code == 200
            stats = requests.get(server.url + "/_engine/stats").json()["counts"]
            return seen, stats

    first, stats = outcomes(7)
    assert first == outcomes(7)[0]
    assert first != outcomes(8)[0]
    counts = Counter("5xx" if isinstance(k, int) and k >= 500 else k for k in first)
    assert counts[429] and counts["5xx"] and counts["malformed"] and counts[200]
    assert stats["fault_429"] == counts[429] and stats["fault_malformed"] == counts["malformed"]


def test_a_faulted_429_carries_the_providers_body():
    with EngineServer(EngineConfig(render_delay=0.0, fault_rate_429=1.0)).start() as server:
        answer = post(server, "/riffusion/generate", SHORT)
        assert answer.status_code == 429 and answer.json() == {"detail": "Too Many Requests"}
        assert server.stats()["tracks"] == {}  # a refused create starts nothing


def test_added_latency_slows_api_calls_only():
    with EngineServer(EngineConfig(render_delay=0.0, latency=0.3)).start() as server:
        started = time.monotonic()
        requests.get(server.url + "/riffusion/feed/" + "a" * 32)
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        requests.get(server.url + "/_engine/health")
        assert time.monotonic() - started < 0.25


def test_it_stays_responsive_with_hundreds_of_slow_jobs():
    with EngineServer(EngineConfig(render_delay=60.0, max_jobs=1000)).start() as server:
        session = requests.Session()
        started = time.monotonic()
        ids = []
        for _ in range(200):
            ids += [j["id"] for j in session.post(server.url + "/riffusion/generate", json=SHORT).json()["jobs"]]
        assert time.monotonic() - started < 10
        started = time.monotonic()
        feed = session.get(f"{server.url}/riffusion/feed/{','.join(ids[:100])}").json()
        assert time.monotonic() - started < 1.0
        assert {t["status"] for t in feed} <= {"queued", "process"}
        assert server.stats()["counts"]["create"] == 200
        assert threading.active_count() < 40  # no thread parked per job


def test_stats_count_calls_per_kind(engine):
    before = engine.stats()["counts"]
    requests.get(engine.url + "/riffusion/feed/" + "a" * 32)
    requests.get(engine.url + "/v1/riffusion/music/", params={"limit": 1})
    after = requests.get(engine.url + "/_engine/stats").json()
    assert after["counts"]["feed"] == before.get("feed", 0) + 2
    assert set(after) >= {"counts", "tracks", "running_jobs"}
