"""The Procfile's production start works as written: release, then web, then a musician's pages.

The `release` and `web` lines are read from the Procfile and run through `sh -c` exactly as a
process manager would, with production settings (riffweb.settings, DEBUG off, behind a TLS
proxy, `LOG_FORMAT=json`) and nothing from the test settings. A musician then logs in over
HTTP and opens every kind of page; every log line the web process wrote must be JSON.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import requests

from tests.cluster import ROOT, database_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-deploy-test-password"


def procfile_line(kind: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"the Procfile has no {kind} line")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path, port: int) -> dict[str, str]:
    """What an operator sets: nothing of the test settings (no DEBUG, no SECURE_* relaxations)."""
    env = {name: os.environ[name] for name in ("HOME", "LANG", "TMPDIR") if name in os.environ}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        DJANGO_SETTINGS_MODULE="riffweb.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        BEHIND_PROXY="1",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        LOG_FORMAT="json",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PYTHONUNBUFFERED="1",
    )
    env.update(database_env())
    if os.environ.get("REDIS_URL"):
        # A Redis database of its own: no cluster works the request this test submits, and it must not
        # wait in the queue that later tests' clusters take from.
        env["REDIS_URL"] = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/15"))
    return env


class Visitor:
    """A browser behind the site's TLS proxy: it keeps cookies itself, since they are `Secure`."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.origin = base.replace("http://", "https://")

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Forwarded-Proto": "https", "Origin": self.origin, "Referer": self.origin + path}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(method, self.base + path, headers=headers, allow_redirects=False,
                                    timeout=30, **kwargs)
        self.cookies.update(response.cookies.get_dict())
        return response

    def get(self, path: str) -> requests.Response:
        return self._send("GET", path)

    def post(self, path: str, data: dict) -> requests.Response:
        return self._send("POST", path, data=data)


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def manage(env: dict, *args: str, extra_env: dict | None = None) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**env, **(extra_env or {})},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def start_web(env: dict, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    return subprocess.Popen(["sh", "-c", procfile_line("web")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(base: str, web: subprocess.Popen, log_path: Path) -> requests.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert web.poll() is None, f"web exited:\n{log_path.read_text()}"
        try:
            return requests.get(base + "/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=20)
        except requests.ConnectionError:
            time.sleep(0.3)
    raise AssertionError(f"web did not answer:\n{log_path.read_text()}")


def test_the_procfiles_release_and_web_lines_serve_every_page_and_static_file(tmp_path):
    port = free_port()
    env = production_env(tmp_path, port)
    release = subprocess.run(["sh", "-c", procfile_line("release")], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert release.returncode == 0, release.stderr
    manage(env, "createsuperuser", "--noinput", "--username", "olivia", "--email", "olivia@example.com",
           extra_env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD})
    project_pk = manage(env, "shell", "--no-imports", "-c", (
        "from django.contrib.auth import get_user_model; from riffweb.studio.models import Project; "
        "print(Project.create_for(get_user_model().objects.get(username='olivia'), name='Night drive').pk)"
    )).strip()

    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "web.log"
    web = start_web(env, log_path)
    try:
        health = wait_until_up(base, web, log_path)
        # With the deploy's own database, broker (Redis in bin/test's second pass) and storage.
        assert (health.status_code, health.json()) == (200, {"database": "ok", "broker": "ok", "storage": "ok"})
        visitor = Visitor(base)
        login = visitor.get("/login/")
        assert login.status_code == 200
        logged_in = visitor.post("/login/", {"username": "olivia", "password": PASSWORD,
                                             "csrfmiddlewaretoken": csrf_token(login.text)})
        assert logged_in.status_code == 302, logged_in.text[:500]

        project = visitor.get(f"/projects/{project_pk}/")
        assert project.status_code == 200
        created = visitor.post(f"/projects/{project_pk}/generate/", {
            "title": "Neon rain", "lyrics": "[Verse]\nCity lights", "tags": "synthwave", "model": "FUZZ-1.1",
            "idempotency_key": str(uuid.uuid4()), "csrfmiddlewaretoken": csrf_token(project.text),
        })
        assert created.status_code == 302, created.text[:500]
        page = visitor.get(f"/projects/{project_pk}/")
        song_pk = re.search(r'href="/songs/(\d+)/"', page.text).group(1)
        song = visitor.get(f"/songs/{song_pk}/")
        library = visitor.get("/library/")
        assert [page.status_code, song.status_code, library.status_code] == [200, 200, 200]
        assert "Neon rain" in song.text and "Neon rain" in library.text

        stylesheet = re.search(r'href="(/static/css/riffweb\.[0-9a-f]+\.css)"', login.text).group(1)
        script = re.search(r'src="(/static/[^"]+\.js)"', song.text).group(1)
        css, js = visitor.get(stylesheet), visitor.get(script)
        assert (css.status_code, css.headers["Content-Type"]) == (200, "text/css; charset=\"utf-8\"")
        assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")
        assert "max-age=315360000" in css.headers["Cache-Control"]  # hashed names: cached for good
        request_ids = {r.headers["X-Request-ID"] for r in (login, logged_in, project, song, library, css)}
    finally:
        os.killpg(web.pid, signal.SIGTERM)  # the session we started: sh, gunicorn and its workers
        web.wait(30)
        if "REDIS_URL" in env:
            redis.Redis.from_url(env["REDIS_URL"]).flushdb()

    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # LOG_FORMAT=json: every line, gunicorn's too
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)
    logged = {r["request_id"]: r for r in records if r["logger"] == "riffweb.request"}
    assert request_ids <= logged.keys()
    assert {logged[rid]["status"] for rid in request_ids} <= {200, 302}
    assert not any(r["level"] == "ERROR" for r in records), lines
    assert PASSWORD not in "\n".join(lines) and env["SECRET_KEY"] not in "\n".join(lines)
