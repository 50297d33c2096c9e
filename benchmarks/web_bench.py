"""Benchmark the song cards' status poll: gunicorn with production settings, many open pages.

    .venv/bin/python benchmarks/web_bench.py                     # 300 open pages, then step up
    .venv/bin/python benchmarks/web_bench.py --pages 300 --max-pages 300 --seconds 30

It runs the Procfile's `web` line as written (gunicorn, DEBUG off, PORT on loopback) on its
own SQLite file in a temporary folder (or on DATABASE_URL when set), creates one project page
per open page with three requests, so six unfinished songs, loads every page once, and
simulates each open page as the browser runs it: every poller its markup starts
(`hx-trigger="every 2s"`: today one per page) sends its request on that interval, carrying
the cards' versions the page holds, the new versions taken from each answer. Meanwhile a writer moves a few songs' progress every second
(`--changes-per-second`), so some answers carry out-of-band swaps. It prints:

    polls_per_page_per_minute   status requests one open page makes per minute (target ≤ 30)
    status_p95_ms               95th percentile of a status request's time at --pages (target ≤ 50)
    status_p50_ms, changed_answers, failed_polls
    status_server_cpu_ms_per_poll   CPU the gunicorn processes spent per poll (not skewed by load)
    open_pages_cpu_ceiling      the machine's cores divided by one open page's server CPU per second
    open_pages_at_p95_100ms     the most open pages (stepping up by half, up to --max-pages)
                                whose p95 stayed within 100 ms; ">N" when every step did
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = Path(tempfile.mkdtemp(prefix="riffweb-web-bench-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "riffweb.settings"
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("SQLITE_PATH", str(WORK / "bench.sqlite3"))
os.environ["MEDIA_ROOT"] = str(WORK / "media")
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
# Plain HTTP on loopback: no redirect to HTTPS, cookies without the Secure flag.
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["SECURE_COOKIES"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import F  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from riffweb.studio.models import Membership, Project, Song, Transform  # noqa: E402

CARD = re.compile(r'name="card" value="(\d+):([^"]+)"')
POLLER = re.compile(r'hx-trigger="every (\d+(?:\.\d+)?)s"')
PROJECTS_PER_USER = 10


class Page:
    """One open project page: its session cookie and its cards' versions, as its HTML gave them."""

    def __init__(self, session_key: str, path: str):
        self.cookies = {settings.SESSION_COOKIE_NAME: session_key}
        self.path = path
        self.versions: dict[int, str] = {}

    def open(self, url: str) -> list[float]:
        """Load the page as a browser would; the intervals of the pollers its markup starts."""
        html = requests.get(f"{url}{self.path}", cookies=self.cookies, timeout=30, allow_redirects=False).text
        self.versions = {int(pk): version for pk, version in CARD.findall(html)}
        return [float(seconds) for seconds in POLLER.findall(html)]


def make_pages(count: int) -> list[Page]:
    """`count` project pages with six unfinished songs each, and a logged-in session per owner."""
    users = get_user_model().objects
    pages, now = [], timezone.now()
    for start in range(0, count, PROJECTS_PER_USER):
        user = users.create_user(f"musician{start}", password=secrets.token_urlsafe(12))
        session = SessionStore()
        # The backend a password log-in records (the throttle's backend in front only counts failures).
        session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        projects = Project.objects.bulk_create(
            Project(name=f"Page {n}", created_by=user) for n in range(start, min(count, start + PROJECTS_PER_USER)))
        Membership.objects.bulk_create(
            Membership(project=p, user=user, role=Membership.Role.OWNER) for p in projects)
        transforms = Transform.objects.bulk_create(
            Transform(project=p, created_by=user, mode=Transform.Mode.PROFESSIONAL, title=f"Song {i}",
                      tags="synthwave", status=Transform.Status.SUBMITTED)
            for p in projects for i in range(3))
        Song.objects.bulk_create(
            Song(transform=t, project_id=t.project_id, variant=v, title=t.title, status=Song.Status.RUNNING,
                 progress=10, submitted_at=now, last_progress_at=now, changed_at=now)
            for t in transforms for v in (0, 1))
        pages += [Page(session.session_key, project.get_absolute_url()) for project in projects]
    return pages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise RuntimeError("the Procfile has no web line")


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, str]:
    """The Procfile's web line exactly as written (access log included), on a loopback port."""
    port = free_port()
    env = os.environ | {"PORT": str(port), "WEB_CONCURRENCY": str(workers),
                        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(["bash", "-c", f"exec {procfile_web()}"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"{url}/accounts/login/", timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def server_cpu_seconds(master: int) -> float:
    """CPU time the gunicorn master and its workers have used: what the server costs, whatever
    else the machine runs meanwhile (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if master in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def change_songs(song_ids: list[int], per_second: float, stop: threading.Event) -> None:
    """Now and then a song moves on, as the pipeline moves them."""
    while not stop.wait(1 / per_second):
        Song.objects.filter(pk=random.choice(song_ids)).update(
            progress=F("progress") % 90 + 1, changed_at=timezone.now())


def run(url: str, pages: list[Page], pollers: list[float], seconds: float, threads: int) -> dict:
    """Every page runs its pollers (staggered) for `seconds`; the answers' times and counts."""
    host, port = url.removeprefix("http://").split(":")
    status_path = reverse("studio:song_status")
    times, lock = [], threading.Lock()
    counts = {"polls": 0, "changed": 0, "failed": 0}

    def poll(page: Page) -> None:
        # http.client rather than requests: the client shares the machine's two cores with the
        # server it measures, so it should cost as little as it can.
        query = urlencode([("card", f"{pk}:{v}") for pk, v in page.versions.items()] + [("look", "card")])
        headers = {"HX-Request": "true", "Cookie": "; ".join(f"{k}={v}" for k, v in page.cookies.items())}
        began = time.perf_counter()
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", f"{status_path}?{query}", headers=headers)
            response = connection.getresponse()
            status, body = response.status, response.read().decode()
        except OSError:
            status, body = 0, ""
        finally:
            connection.close()
        elapsed = (time.perf_counter() - began) * 1000
        ok = status in (200, 204)
        if status == 200:
            page.versions.update({int(pk): v for pk, v in CARD.findall(body)})
        with lock:
            times.append(elapsed)
            counts["polls"] += 1
            counts["changed"] += status == 200
            counts["failed"] += not ok

    start = time.monotonic()
    due = [(start + random.uniform(0, every), n, every) for n in range(len(pages)) for every in pollers]
    heapq.heapify(due)
    with ThreadPoolExecutor(threads) as pool:
        while due and due[0][0] < start + seconds:
            at, n, every = heapq.heappop(due)
            time.sleep(max(0.0, at - time.monotonic()))
            pool.submit(poll, pages[n])
            heapq.heappush(due, (at + every, n, every))
    times.sort()
    return {
        "polls_per_page_per_minute": counts["polls"] / len(pages) / (seconds / 60),
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=300, help="open pages for the headline figures")
    parser.add_argument("--max-pages", type=int, default=1200, help="where stepping up stops")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3")))
    parser.add_argument("--threads", type=int, default=32, help="client threads sending the polls")
    parser.add_argument("--changes-per-second", type=float, default=2.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    # As a deploy does: production pages name their static files through the manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    pages = make_pages(max(args.pages, args.max_pages))
    song_ids = list(Song.objects.values_list("pk", flat=True))
    server, url = start_gunicorn(args.workers)
    pollers = pages[0].open(url)
    if not pollers or not pages[0].versions:
        raise RuntimeError("the project page started no poller with cards: is the server answering?")
    for page in pages[1:]:
        assert page.open(url) == pollers, "every project page should start the same pollers"
    stop = threading.Event()
    writer = threading.Thread(target=change_songs, args=(song_ids, args.changes_per_second, stop), daemon=True)
    writer.start()
    try:
        run(url, pages[:args.pages], pollers, 4.0, args.threads)  # warm-up: workers import and connect
        print(f"gunicorn_workers={args.workers}")
        print(f"cards_per_page={len(pages[0].versions)}")
        print(f"pollers_per_page={len(pollers)}")
        cpu = server_cpu_seconds(server.pid)
        figures = run(url, pages[:args.pages], pollers, args.seconds, args.threads)
        cpu_per_poll = (server_cpu_seconds(server.pid) - cpu) / max(1, figures["polls"])
        print(f"open_pages={args.pages}")
        # What the server spends per poll, and the pages its cores could hold at that cost with
        # nothing else running (not the client, not the database): a ceiling a busy machine
        # cannot show by timing.
        print(f"status_server_cpu_ms_per_poll={cpu_per_poll * 1000:.2f}")
        per_page = figures["polls_per_page_per_minute"] / 60
        print(f"open_pages_cpu_ceiling={os.cpu_count() / (cpu_per_poll * per_page):.0f}")
        print(f"polls_per_page_per_minute={figures['polls_per_page_per_minute']:.1f}")
        print(f"status_p50_ms={figures['p50']:.1f}")
        print(f"status_p95_ms={figures['p95']:.1f}")
        print(f"changed_answers={figures['changed']}")
        print(f"failed_polls={figures['failed']}")
        passed, count = (args.pages if figures["p95"] <= 100 else 0), args.pages
        while figures["p95"] <= 100 and count < args.max_pages:
            count = min(args.max_pages, count + count // 2)
            figures = run(url, pages[:count], pollers, args.seconds, args.threads)
            print(f"step_pages={count} step_p95_ms={figures['p95']:.1f} step_failed={figures['failed']}")
            if figures["p95"] <= 100:
                passed = count
        exceeded = figures["p95"] <= 100 and passed == args.max_pages
        print(f"open_pages_at_p95_100ms={'>' if exceeded else ''}{passed}")
    finally:
        stop.set()
        writer.join(5)
        server.terminate()
        server.wait(10)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
