"""Decompression bombs against a production-like web server: memory, refusals, other pages.

    .venv/bin/python benchmarks/bomb_bench.py [--workers 3] [--rounds 2]

Starts gunicorn (`riffweb.wsgi`, riffweb.settings with DEBUG off, collected static files, its
own SQLite file and media folder), signs one musician in, and per round uploads three bombs
built with PyAV at once — an hour of FLAC inside an .m4a, an hour-long AAC .m4a, and an hour of
MP3 whose header says 5 seconds — while another client keeps loading the project page. The
gunicorn processes' resident memory is sampled every 10 ms throughout. Prints name=value lines:

    peak_rss_mb        largest resident size of any one gunicorn process (target < 300)
    idle_rss_mb        the same, measured before the first upload
    refused            bombs refused with the musician's message (of 3 per round)
    stored_uploads     uploads saved (should be 0)
    other_page_ms      slowest project-page load while the bombs were in flight
    other_page_p50_ms  its median
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = Path(tempfile.mkdtemp(prefix="riffweb-bomb-bench-"))
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "riffweb.settings",
    "SECRET_KEY": "bomb-bench-" + os.urandom(16).hex(),
    "SQLITE_PATH": str(WORK / "bench.sqlite3"),
    "MEDIA_ROOT": str(WORK / "media"),
    "ALLOWED_HOSTS": "127.0.0.1",
    # Plain HTTP on loopback: no redirect to https, cookies without the Secure flag.
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(SERVER_ENV)
os.environ.pop("DEBUG", None)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402

from riffweb.studio.models import Project, Upload  # noqa: E402
from tests import audio_bombs  # noqa: E402

PASSWORD = "a-long-bench-password"
REFUSALS = ("which we do not take", "the limit is", "longer than")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def gunicorn_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return [master, *map(int, children.read_text().split())]
    except OSError:
        return [master]


class Sampler(threading.Thread):
    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master, self.peak, self.done = master, 0.0, threading.Event()

    def run(self):
        while not self.done.wait(0.01):
            self.peak = max([self.peak, *(rss_mb(pid) for pid in gunicorn_pids(self.master))])


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    port = 18700 + os.getpid() % 1000
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "riffweb.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "60"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(base + reverse("healthz"), timeout=1).status_code == 200:
                return server, base
        except requests.RequestException:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def signed_in(base: str) -> requests.Session:
    session = requests.Session()
    login = base + reverse("login")
    session.get(login, timeout=10)
    answer = session.post(login, data={"username": "bench", "password": PASSWORD},
                          headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": login}, timeout=10)
    assert answer.ok and "sessionid" in session.cookies, answer.status_code
    return session


def upload(base: str, url: str, name: str, data: bytes) -> bool:
    """Post one bomb as the upload form's htmx request; True when refused with a message."""
    session = signed_in(base)
    answer = session.post(base + url, files={"file": (name, data)}, timeout=120, headers={
        "HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": base + url})
    return answer.status_code == 200 and any(words in answer.text for words in REFUSALS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("bench", "bench@example.com", PASSWORD)
    project = Project.create_for(user, name="Bombs")
    url = reverse("studio:upload_create", args=[project.pk])
    page = project.get_absolute_url()
    bombs = [("flac.m4a", audio_bombs.flac_in_mp4(3600)), ("hour.m4a", audio_bombs.long_m4a(3600)),
             ("liar.mp3", audio_bombs.lying_mp3(declared=5, seconds=3600))]

    server, base = start_server(args.workers)
    try:
        reader = signed_in(base)
        reader.get(base + page, timeout=10)  # every worker imported, first page rendered
        idle = max(rss_mb(pid) for pid in gunicorn_pids(server.pid))
        sampler = Sampler(server.pid)
        sampler.start()
        refused, timings = 0, []
        for _ in range(args.rounds):
            with ThreadPoolExecutor(len(bombs)) as pool:
                futures = [pool.submit(upload, base, url, name, data) for name, data in bombs]
                while not all(f.done() for f in futures):
                    started = time.monotonic()
                    assert reader.get(base + page, timeout=60).status_code == 200
                    timings.append((time.monotonic() - started) * 1000)
                refused += sum(f.result() for f in futures)
        sampler.done.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"peak_rss_mb={sampler.peak:.0f}")
    print(f"idle_rss_mb={idle:.0f}")
    print(f"refused={refused}/{len(bombs) * args.rounds}")
    print(f"stored_uploads={Upload.objects.count()}")
    print(f"other_page_ms={max(timings):.0f}")
    print(f"other_page_p50_ms={statistics.median(timings):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
