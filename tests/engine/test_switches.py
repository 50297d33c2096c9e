"""The engine's bad-day switches: an outage, and jobs it forgets (a restart, a dropped job)."""

import subprocess
import sys
import time

import pytest
import requests

from riffweb.engine.server import EngineConfig, EngineServer

from .conftest import post, tone_wav, wait_tracks

SHORT = {"tag": "pop", "instrumental": True, "duration": 30}
MUSIC = "/v1/riffusion/music/"


def feed(server, ids):
    return requests.get(f"{server.url}/riffusion/feed/{','.join(ids)}", timeout=10)


def test_an_outage_answers_503_on_every_api_call_and_renders_finish_meanwhile():
    with EngineServer(EngineConfig(render_delay=0.5, song_seconds=5.0)).start() as server:
        ids = [j["id"] for j in post(server, "/riffusion/generate", SHORT).json()["jobs"]]
        job = post(server, MUSIC + "create-compose", {"prompt_1": "house", "duration": 30}).json()["job_id"]
        server.app.set_outage(True)
        deadline = time.monotonic() + 60
        while not all(t["status"] in ("success", "failed") for t in server.stats()["tracks"].values()):
            assert time.monotonic() < deadline, server.stats()["tracks"]
            time.sleep(0.05)  # all four tracks finish while the service is down
        calls = [
            feed(server, ids),
            post(server, "/riffusion/generate", SHORT),
            post(server, "/riffusion/upload", {"url": "http://example.invalid/a.wav"}),
            requests.get(server.url + MUSIC, params={"id": job}, timeout=10),
            post(server, MUSIC + "create-prompt", {"prompt": "a storm"}),
            requests.post(server.url + MUSIC + "upload-audio/", data=tone_wav(2.0), headers={"Content-Type": "audio/wav"}),
            requests.get(server.url + MUSIC + "download/", params={"id": ids[0]}, timeout=10),
            requests.get(f"{server.url}/audio/{ids[0]}.mp3", timeout=10),
        ]
        for answer in calls:
            assert answer.status_code == 503, answer.request.url
            assert answer.json()["code"] == 503 and answer.json()["error"]
        assert requests.get(server.url + "/_engine/health").status_code == 200
        assert server.stats()["outage"] is True

        server.app.set_outage(False)
        tracks = feed(server, ids).json()
        assert [t["status"] for t in tracks] == ["success", "success"]
        songs = requests.get(server.url + MUSIC, params={"id": job}, timeout=10).json()
        assert {s["status"] for s in songs} == {"completed"}
        assert server.stats()["counts"]["outage"] == len(calls)


def test_a_standalone_engine_switches_the_outage_over_http():
    process = subprocess.Popen(
        [sys.executable, "-m", "riffweb.engine", "--port", "0", "--render-delay", "0", "--song-seconds", "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        switch = requests.post(url + "/_engine/outage", json={"on": True}, timeout=10)
        assert switch.status_code == 200 and switch.json() == {"outage": True}
        assert requests.post(url + "/riffusion/generate", json=SHORT, timeout=10).status_code == 503
        assert requests.post(url + "/_engine/outage", json={"on": "yes"}, timeout=10).json()["error"] == (
            "on: must be true or false"
        )
        requests.post(url + "/_engine/outage", json={"on": False}, timeout=10)
        assert requests.post(url + "/riffusion/generate", json=SHORT, timeout=10).status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


@pytest.fixture
def slow():
    with EngineServer(EngineConfig(render_delay=30.0, song_seconds=5.0)).start() as server:
        yield server


def test_after_forgetting_a_track_the_feed_leaves_it_out_and_keeps_its_sibling(slow):
    first, second = (j["id"] for j in post(slow, "/riffusion/generate", SHORT).json()["jobs"])
    other = [j["id"] for j in post(slow, "/riffusion/generate", {**SHORT, "tag": "jazz"}).json()["jobs"]]
    assert slow.app.forget_jobs([first]) == {first}
    answer = feed(slow, [first, second, *other])
    assert answer.status_code == 200
    assert [t["id"] for t in answer.json()] == [second, *other]
    # An id that was never the engine's still answers failed, so a poller stops asking.
    assert feed(slow, ["0" * 32]).json()[0]["status"] == "failed"


def test_forgetting_everything_over_http_empties_both_dialects(slow):
    ids = [j["id"] for j in post(slow, "/riffusion/generate", SHORT).json()["jobs"]]
    job = post(slow, MUSIC + "create-compose", {"prompt_1": "house"}).json()["job_id"]
    answer = requests.post(slow.url + "/_engine/forget", timeout=10)
    assert answer.status_code == 200 and set(ids) | {job} <= set(answer.json()["forgotten"])
    assert feed(slow, ids).json() == []
    gone = requests.get(slow.url + MUSIC, params={"id": job}, timeout=10)
    assert gone.status_code == 404 and gone.json()["error"] == "id: no job or song with this id"
    assert slow.stats()["tracks"] == {} and slow.stats()["running_jobs"] == 0


def test_forgetting_named_jobs_over_http_keeps_the_others(slow):
    kept = post(slow, MUSIC + "create-compose", {"prompt_1": "house"}).json()["job_id"]
    dropped = post(slow, MUSIC + "create-compose", {"prompt_1": "jazz"}).json()["job_id"]
    answer = requests.post(slow.url + "/_engine/forget", json={"ids": [dropped]}, timeout=10)
    assert dropped in answer.json()["forgotten"] and len(answer.json()["forgotten"]) == 3  # the job, two songs
    assert requests.get(slow.url + MUSIC, params={"id": dropped}, timeout=10).status_code == 404
    assert len(requests.get(slow.url + MUSIC, params={"id": kept}, timeout=10).json()) == 2
    bad = requests.post(slow.url + "/_engine/forget", json={"ids": "all"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "ids: must be a list of job or track ids"


def test_unknown_job_empty_answers_200_with_an_empty_list_for_forgotten_and_unknown_jobs():
    with EngineServer(EngineConfig(render_delay=30.0, song_seconds=5.0, unknown_job="empty")).start() as server:
        job = post(server, MUSIC + "create-compose", {"prompt_1": "house"}).json()["job_id"]
        server.app.forget_jobs([job])
        for wanted in (job, "f" * 32):
            answer = requests.get(server.url + MUSIC, params={"id": wanted}, timeout=10)
            assert answer.status_code == 200 and answer.json() == []


def test_an_unknown_unknown_job_answer_is_refused_at_start():
    with pytest.raises(ValueError, match="unknown_job: must be one of 404, empty"):
        EngineServer(EngineConfig(unknown_job="410")).start()


def test_a_render_forgotten_while_it_runs_never_comes_back():
    with EngineServer(EngineConfig(render_delay=0.3, song_seconds=5.0)).start() as server:
        ids = [j["id"] for j in post(server, "/riffusion/generate", SHORT).json()["jobs"]]
        server.app.forget_jobs()
        time.sleep(0.6)
        assert feed(server, ids).json() == []
        fresh = [j["id"] for j in post(server, "/riffusion/generate", SHORT).json()["jobs"]]
        assert [t["status"] for t in wait_tracks(server, fresh)] == ["success", "success"]
