"""Real processes for integration tests: the local engine, a django-q2 cluster and web servers.

    with running_engine(render_delay=0.2) as engine, running_qcluster(engine.url):
        ...

running_qcluster starts `manage.py qcluster` as a subprocess that sees the test database
(the SQLite test DB is a file; on PostgreSQL the test_ database), the test's MEDIA_ROOT and
the given upstream URL, waits until the cluster reports it is running, and stops it with
SIGTERM to its main process only (django-q2's own shutdown; never signal its children).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_engine(**config):
    """The local engine over loopback HTTP (riffweb.engine.server), started and stopped."""
    from riffweb.engine.server import EngineConfig, EngineServer

    config.setdefault("render_delay", 0.2)
    server = EngineServer(EngineConfig(**config)).start()
    try:
        yield server
    finally:
        server.stop()


def database_env() -> dict[str, str]:
    """Environment that points another process at the database this test is using."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return {"DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"}


class Cluster:
    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[str] = []
        self.ready = threading.Event()

    def _read(self):
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self.lines.append(line)
            if "running." in line or "Q Cluster" in line and "running" in line:
                self.ready.set()

    @property
    def log(self) -> str:
        return "\n".join(self.lines[-200:])

    def terminate(self, timeout: float = 30.0) -> None:
        """SIGTERM to the main process only: the cluster stops its workers itself."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()

    def kill9(self) -> None:
        """A crash: SIGKILL to every process of this cluster (we started its session)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)


def qcluster_env(upstream_url: str = "", extra_env: dict | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings"),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",  # the cluster's "running" line is how start_qcluster knows it is up
    )
    env.update(database_env())
    if upstream_url:
        env["RIFFWEB_UPSTREAM_URL"] = upstream_url
    env.update({k: str(v) for k, v in (extra_env or {}).items()})
    return env


@contextmanager
def running_qcluster(upstream_url: str = "", extra_env: dict | None = None, wait: float = 30.0):
    cluster = start_qcluster(upstream_url, extra_env, wait)
    try:
        yield cluster
    finally:
        cluster.terminate()


def start_qcluster(upstream_url: str = "", extra_env: dict | None = None, wait: float = 30.0) -> Cluster:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster", "--skip-checks"],
        cwd=ROOT,
        env=qcluster_env(upstream_url, extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    cluster = Cluster(process)
    threading.Thread(target=cluster._read, daemon=True).start()
    if not cluster.ready.wait(wait):
        cluster.kill9()
        raise RuntimeError(f"qcluster did not start:\n{cluster.log}")
    return cluster


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int, process: subprocess.Popen, wait: float) -> bool:
    """Whether `process` accepts connections on 127.0.0.1:port within `wait` seconds (False as
    soon as it exits)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.1)


@contextmanager
def running_web(port: int, extra_env: dict | None = None, wait: float = 30.0):
    """`manage.py runserver --noreload` on 127.0.0.1:port with the same environment as
    running_qcluster (this test's database, MEDIA_ROOT unless extra_env names another); yields
    its base URL."""
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT, env=qcluster_env(extra_env=extra_env), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        if not listening(port, process, wait):
            log.seek(0)
            raise RuntimeError(f"the web process on port {port} did not start:\n{log.read()[-4000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {message}")
