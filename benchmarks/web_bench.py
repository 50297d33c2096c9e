"""Benchmark the song cards' status poll: gunicorn with production settings, many open pages.

    .venv/bin/python benchmarks/web_bench.py                     # 300 open pages, then step up
    .venv/bin/python benchmarks/web_bench.py --pages 300 --max-pages 300 --seconds 30

It runs the Procfile's `web` line as written (gunicorn, DEBUG off, PORT on loopback) on its
own SQLite file in a temporary folder (or on DATABASE_URL when set), creates one project page
per open page with three requests, so six unfinished songs, loads every page once, and
simulates each open page as the browser runs it: its one poller (static/js/poll.js) sends the
cards' and live parts' (the inbox count's) versions the page holds, takes the new versions
from each answer, and waits the seconds its markup's `data-poll-waits` gives for the answers
in a row that said nothing changed, each stretched or shrunk by up to a fifth as poll.js does
(`--steady`: always the first, as if every answer carried a change). The pages are opened at
random moments and poll untimed until they ask at their settled pace; then `--seconds` of polls
are timed. Meanwhile a writer moves a few songs' progress every second
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
import asyncio
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
LIVE = re.compile(r'name="live" value="([^":]+:\d+):([^"]+)"')
POLLER = re.compile(r'id="song-poll"[^>]*data-poll-waits="([^"]+)"')
PROJECTS_PER_USER = 10


class Page:
    """One open project page: its session cookie, its cards' and live parts' versions as its HTML
    gave them, and how many answers in a row said nothing changed."""

    def __init__(self, session_key: str, path: str):
        self.cookies = {settings.SESSION_COOKIE_NAME: session_key}
        self.path = path
        self.versions: dict[int, str] = {}
        self.live: dict[str, str] = {}
        self.quiet = 0

    def open(self, url: str) -> list[float]:
        """Load the page as a browser would; the waits of the poller its markup starts."""
        html = requests.get(f"{url}{self.path}", cookies=self.cookies, timeout=30, allow_redirects=False).text
        self.versions = {int(pk): version for pk, version in CARD.findall(html)}
        self.live = dict(LIVE.findall(html))
        pollers = POLLER.findall(html)
        return [float(seconds) for seconds in pollers[0].split()] if len(pollers) == 1 else []


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
            Song(transform=t, mode=t.mode, project_id=t.project_id, variant=v, title=t.title,
                 status=Song.Status.RUNNING, progress=10, submitted_at=now, last_progress_at=now, changed_at=now)
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


async def fetch(host: str, port: int, target: str, headers: dict) -> tuple[int, str]:
    """One GET on its own connection, as the Procfile's sync workers answer (they close it)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 *(f"{name}: {value}" for name, value in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()


def run(url: str, pages: list[Page], waits: list[float], seconds: float, steady: bool) -> dict:
    """Every page polls as static/js/poll.js has it: the next request `waits[quiet]` seconds,
    stretched or shrunk by up to a fifth at random, after the last one began (not before its
    answer), `quiet` being the answers in a row that said nothing changed; with `steady`, always
    the first wait (pages whose songs move at every poll). Pages are opened at random moments
    over the longest wait, as pages a team opened over time are, and poll for as long as the
    waits add up to before `seconds` of polls are timed: by then each page asks at the pace its
    answers have brought it to, not at the pace of a page just opened. The timed answers' times
    and counts.

    One asyncio loop sends them all: client threads sharing one interpreter wait for each
    other's turn at the GIL, and that wait was being timed as the server's."""
    host, port = url.removeprefix("http://").split(":")
    status_path = reverse("studio:song_status")
    times = []
    counts = {"sent": 0, "polls": 0, "changed": 0, "failed": 0}  # sent: the untimed ones too

    paces = waits[:1] if steady else waits
    warm_up = sum(paces)

    async def open_page(page: Page, timed_from: float, until: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(random.uniform(0, paces[-1]))
        headers = {"HX-Request": "true", "Cookie": "; ".join(f"{k}={v}" for k, v in page.cookies.items())}
        while loop.time() < until:
            query = urlencode([("card", f"{pk}:{v}") for pk, v in page.versions.items()]
                              + [("live", f"{key}:{v}") for key, v in page.live.items()] + [("look", "card")])
            began = loop.time()
            try:
                status, body = await asyncio.wait_for(fetch(host, int(port), f"{status_path}?{query}", headers), 10)
            except (OSError, TimeoutError, ValueError, IndexError):
                status, body = 0, ""
            elapsed = loop.time() - began
            if status == 200:
                page.versions.update({int(pk): v for pk, v in CARD.findall(body)})
                page.live.update(LIVE.findall(body))
            page.quiet = 0 if steady or status != 204 else page.quiet + 1
            counts["sent"] += 1
            if began >= timed_from:
                times.append(elapsed * 1000)
                counts["polls"] += 1
                counts["changed"] += status == 200
                counts["failed"] += status not in (200, 204)
            wait = paces[min(page.quiet, len(paces) - 1)] * random.uniform(0.8, 1.2)
            await asyncio.sleep(max(0.0, wait - elapsed))

    async def all_pages() -> None:
        timed_from = asyncio.get_running_loop().time() + warm_up
        await asyncio.gather(*(open_page(page, timed_from, timed_from + seconds) for page in pages))

    asyncio.run(all_pages())
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
    parser.add_argument("--changes-per-second", type=float, default=2.0)
    parser.add_argument("--steady", action="store_true",
                        help="pages poll at the first wait throughout, as if every answer carried a change")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    # As a deploy does: production pages name their static files through the manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    pages = make_pages(max(args.pages, args.max_pages))
    song_ids = list(Song.objects.values_list("pk", flat=True))
    server, url = start_gunicorn(args.workers)
    waits = pages[0].open(url)
    if not waits or not pages[0].versions or not pages[0].live:
        raise RuntimeError("the project page started no poller with cards and its inbox: is the server answering?")
    for page in pages[1:]:
        assert page.open(url) == waits, "every project page should start the same poller"
    stop = threading.Event()
    writer = threading.Thread(target=change_songs, args=(song_ids, args.changes_per_second, stop), daemon=True)
    writer.start()
    try:
        run(url, pages[:args.pages], waits, 1.0, True)  # workers import and connect
        print(f"gunicorn_workers={args.workers}")
        print(f"cards_per_page={len(pages[0].versions)}")
        print(f"live_parts_per_page={len(pages[0].live)}")
        print(f"poll_waits_s={','.join(f'{wait:g}' for wait in waits)}")
        print(f"steady={'yes' if args.steady else 'no'}")
        cpu = server_cpu_seconds(server.pid)
        figures = run(url, pages[:args.pages], waits, args.seconds, args.steady)
        cpu_per_poll = (server_cpu_seconds(server.pid) - cpu) / max(1, figures["sent"])
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
            figures = run(url, pages[:count], waits, args.seconds, args.steady)
            print(f"step_pages={count} step_p95_ms={figures['p95']:.1f} step_failed={figures['failed']}"
                  f" step_polls_per_page_per_minute={figures['polls_per_page_per_minute']:.1f}")
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
