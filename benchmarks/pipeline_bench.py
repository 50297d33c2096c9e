"""Benchmark the upstream pipeline against the local engine, next to a naive client.

    .venv/bin/python benchmarks/pipeline_bench.py                 # A and B, no faults, then 20 % faults
    .venv/bin/python benchmarks/pipeline_bench.py --dialects riffusion --faults 0
    # 10x load: 2,000 songs in flight, PostgreSQL + Redis, riffweb only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/riffweb REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python benchmarks/pipeline_bench.py --songs 2000 --skip-naive

For each dialect (A = `riffusion`, polling; B = `useapi`, callbacks) it starts the local engine
in this process (render delay 60 s, like hosted upstreams), a web server for callbacks, and a
real `manage.py qcluster` with 2 workers; creates `--songs` songs (two per request) at once;
waits until every song is finished; and prints, for riffweb and for a naive client run in the
same process afterwards (each song polled on its own every 5 s):

    upstream_calls_per_song   create + status calls per finished song (faulted answers count)
    audio_fetches_per_song    audio downloads per finished song
    p95_done_to_stored_s      95th percentile of (our row holds stored audio) − (engine marked done)
    songs_lost                songs that ended without stored audio (failed, timed out)
    songs_unfinished          songs still on their way when the run's deadline passed
                              (render delay × 3 + 240 s): the pipeline fell behind

Lines are printed as `<dialect>_faults<percent>_<client>_<figure>=<value>`.

Short songs: the engine's composer has a 30 s floor and renders ~1 s of CPU per track, which on a
2-core machine would make the engine, not the pipeline, the bottleneck. The benchmark runs the
engine in its own process with `--song-seconds 10` (instrumentals of about 10–16 s),
`--eager-mp3` (MP3s encoded when the render finishes, like a hosted upstream's) and
`--prerendered 4` (four clips rendered at start and served as every track, so thousands of songs
cost the engine no rendering).
It uses its own media folder and its own database: a SQLite file, or with a postgres://
DATABASE_URL a database named riffweb_bench_pipeline (or BENCH_PG_NAME) on that server (dropped and made again).
With REDIS_URL the cluster uses the Redis broker, as in production, on that server's database 14
(emptied before each run, so no task left queued by an earlier run is worked in this one).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = Path(tempfile.mkdtemp(prefix="riffweb-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("SQLITE_PATH", str(WORK / "bench.sqlite3"))
os.environ["MEDIA_ROOT"] = str(WORK / "media")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if os.environ.get("REDIS_URL"):
    from urllib.parse import urlsplit, urlunsplit

    os.environ["REDIS_URL"] = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/14"))

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402

from riffweb import audio  # noqa: E402
from riffweb.studio.models import Project, Song, Transform  # noqa: E402
from riffweb.queue import submit_request  # noqa: E402
from tests.cluster import start_qcluster  # noqa: E402

NAIVE_INTERVAL = 5.0


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def web_server():
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.daemon_threads = True
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class Engine:
    """The local engine in its own process, so its rendering never shares our GIL."""

    def __init__(self, args, faults: float):
        import socket
        import subprocess

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            # Short songs, and MP3s encoded when the render finishes instead of on first
            # download: lazily encoding 200 MP3s behind one GIL would be measured here as
            # *our* done→stored time.
            [sys.executable, "-m", "riffweb.engine", "--port", str(port), "--render-delay", str(args.render_delay),
             "--song-seconds", "10", "--eager-mp3", "--prerendered", "4",
             "--max-jobs", str(max(100, args.songs)), "--seed-faults", "7",
             "--fault-rate-429", str(faults * 0.25), "--fault-rate-5xx", str(faults * 0.5),
             "--fault-rate-malformed", str(faults * 0.25)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                requests.get(self.url + "/_engine/health", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("the engine did not start")

    def stats(self) -> dict:
        return requests.get(self.url + "/_engine/stats", timeout=30).json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def engine_for(args, faults: float) -> Engine:
    return Engine(args, faults)


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def report(prefix: str, calls: int, fetches: int, delays: list[float], total: int, done: int, extra: str = "",
           unfinished: int = 0):
    per = max(done, 1)
    for name, value in [("upstream_calls_per_song", f"{calls / per:.2f}"), ("audio_fetches_per_song", f"{fetches / per:.2f}"),
                        ("p95_done_to_stored_s", f"{p95(delays):.2f}"), ("songs_lost", total - done - unfinished),
                        ("songs_unfinished", unfinished)]:
        print(f"{prefix}_{name}={value}", flush=True)
    if extra:
        print(f"# {prefix}: {extra.strip()}", flush=True)


def run_riffweb(args, dialect: str, faults: float, project: Project) -> None:
    engine = engine_for(args, faults)
    env = {
        "RIFFWEB_UPSTREAM_DIALECT": dialect,
        "Q_WORKERS": "2",
        "LOG_LEVEL": "INFO",  # the cluster's "running" line tells us it is up
    }
    if os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    web = None
    if dialect == "useapi":
        web, url = web_server()
        env["RIFFWEB_PUBLIC_URL"] = url
    cluster = start_qcluster(engine.url, env)
    try:
        started = time.time()
        transforms = []
        for i in range(args.songs // 2):
            transform = Transform.objects.create(
                project=project, mode=Transform.Mode.PROFESSIONAL if dialect == "riffusion" else Transform.Mode.COMPOSE,
                title=f"Bench {dialect} {i}", tags="synthwave", instrumental=True, dialect=dialect,
                prompts=[{"text": "synthwave", "strength": 0.5, "start": 0, "end": 1}] if dialect == "useapi" else [],
            )
            for variant in (0, 1):
                Song.objects.create(transform=transform, mode=transform.mode, project=project, variant=variant,
                                    title=transform.title)
            transforms.append(transform.pk)
            submit_request(transform.pk)
        songs = Song.objects.filter(transform_id__in=transforms)
        deadline = started + args.render_delay * 3 + 240
        while time.time() < deadline and songs.exclude(status__in=Song.FINISHED).exists():
            time.sleep(1)
        stats = engine.stats()
        # The songs' extras (cover art, waveform) come after their audio: the run ends when they
        # are made too, so that none is left to the next run's cluster (and its CPU).
        stored_at = time.time()
        while time.time() < deadline and songs.filter(finishing=True).exists():
            time.sleep(1)
        extras_after = time.time() - stored_at
        extras_left = songs.filter(finishing=True).count()
    finally:
        cluster.terminate()
        engine.stop()
        (WORK / f"cluster-{dialect}-{faults:g}.log").write_text("\n".join(cluster.lines))
        if web is not None:
            web.shutdown()
    counts = stats["counts"]
    tracks = stats["tracks"]
    done = list(songs.filter(status=Song.Status.DONE))
    delays = [
        s.finished_at.timestamp() - tracks[s.upstream_id]["done_at"]
        for s in done
        if s.upstream_id in tracks and tracks[s.upstream_id]["done_at"]
    ]
    detect = [
        s.upstream_done_at.timestamp() - tracks[s.upstream_id]["done_at"]
        for s in done
        if s.upstream_id in tracks and tracks[s.upstream_id]["done_at"] and s.upstream_done_at
    ]
    store = [(s.finished_at - s.upstream_done_at).total_seconds() for s in done if s.upstream_done_at]
    done_ats = [t["done_at"] for t in tracks.values() if t["done_at"]]
    (WORK / f"songs-{dialect}-{faults:g}.json").write_text(json.dumps([
        {"id": s.pk, "done": tracks.get(s.upstream_id, {}).get("done_at"), "noticed": s.upstream_done_at.timestamp(),
         "stored": s.finished_at.timestamp()} for s in done if s.upstream_done_at]))
    failed = songs.exclude(status=Song.Status.DONE)
    extra = ""
    if failed.exists():
        extra = "  not done: " + ", ".join(f"{s.status}: {s.error[:60]}" for s in failed[:5])
    report(
        f"{dialect}_faults{faults * 100:.0f}_riffweb", counts.get("create", 0) + counts.get("feed", 0), counts.get("audio", 0), delays,
        songs.count(), len(done),
        extra + f"  (wall {time.time() - started:.0f}s, faults answered {sum(counts.get(k, 0) for k in ('fault_429', 'fault_5xx', 'fault_malformed'))})",
        unfinished=songs.exclude(status__in=Song.FINISHED).count(),
    )
    if done_ats and detect:
        print(
            f"# detail: engine done spread {max(done_ats) - min(done_ats):.1f}s; done→noticed p50 "
            f"{statistics.median(detect):.2f}s p95 {p95(detect):.2f}s; noticed→stored p50 {statistics.median(store):.2f}s "
            f"p95 {p95(store):.2f}s; calls {dict((k, v) for k, v in counts.items() if k in ('create', 'feed', 'audio'))}; "
            f"extras made {extras_after:.0f}s after the last audio ({extras_left} left)",
            flush=True,
        )


def run_naive(args, dialect: str, faults: float) -> None:
    """Each song polled on its own every 5 s; audio fetched and checked when done."""
    engine = engine_for(args, faults)
    base = engine.url
    session_lock = threading.Lock()
    calls = {"n": 0}
    stored: dict[str, float] = {}
    out = WORK / f"naive-{dialect}"
    out.mkdir(exist_ok=True)

    def call(method, path, **kw):
        with session_lock:
            calls["n"] += 1
        return requests.request(method, base + path, timeout=(3, 30), **kw)

    def create(i) -> list[tuple[str, str]]:
        while True:
            try:
                if dialect == "riffusion":
                    r = call("POST", "/riffusion/generate", json={"tag": "synthwave", "title": f"n{i}", "instrumental": True})
                    if r.status_code == 200:
                        return [(j["id"], j["id"]) for j in r.json()["jobs"]]
                else:
                    r = call("POST", "/v1/riffusion/music/create-compose",
                             json={"prompt_1": "synthwave", "title": f"n{i}", "instrumental": True})
                    if r.status_code == 200:
                        job = r.json()["job_id"]
                        return [(job, f"{job}#0"), (job, f"{job}#1")]
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(NAIVE_INTERVAL)

    pool = ThreadPoolExecutor(8)
    started = time.time()
    songs = [s for batch in pool.map(create, range(args.songs // 2)) for s in batch]
    heap = [(time.time() + NAIVE_INTERVAL, key, ref) for ref, key in songs]
    heapq.heapify(heap)
    fetches = {"n": 0}
    track_of: dict[str, str] = {}

    def download(key, url, track_id):
        fetches["n"] += 1
        data = requests.get(url, timeout=30).content
        path = out / f"{track_id}.mp3"
        path.write_bytes(data)
        audio.peaks(audio.decode(path).samples)
        stored[key] = time.time()
        track_of[key] = track_id

    deadline = started + args.render_delay * 3 + 240
    futures = []
    while heap and time.time() < deadline:
        due, key, ref = heapq.heappop(heap)
        time.sleep(max(0.0, due - time.time()))
        try:
            if dialect == "riffusion":
                items = call("GET", f"/riffusion/feed/{ref}").json()
                item = next(i for i in items if i["id"] == ref)
                url = item.get("audio_url") if item["status"] == "success" else None
                track_id = ref
            else:
                items = call("GET", f"/v1/riffusion/music/?id={ref}").json()
                item = items[int(key[-1])]
                url = item.get("download_url") if item["status"] == "completed" else None
                track_id = item["id"]
            if url:
                futures.append(pool.submit(download, key, url, track_id))
                continue
            if "fail" in item.get("status", ""):
                continue
        except (requests.RequestException, ValueError, KeyError, StopIteration, IndexError, TypeError):
            pass
        heapq.heappush(heap, (time.time() + NAIVE_INTERVAL, key, ref))
    for f in futures:
        f.exception()
    stats = engine.stats()
    engine.stop()
    pool.shutdown()
    delays = [stored[k] - stats["tracks"][track_of[k]]["done_at"] for k in stored]
    report(f"{dialect}_faults{faults * 100:.0f}_naive", calls["n"], fetches["n"], delays, len(songs), len(stored), f"  (wall {time.time() - started:.0f}s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--songs", type=int, default=200)
    parser.add_argument("--render-delay", type=float, default=60.0)
    parser.add_argument("--dialects", default="riffusion,useapi")
    parser.add_argument("--faults", default="0,0.2", help="comma-separated shares of faulted answers")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = os.environ.get("BENCH_PG_NAME", "riffweb_bench_pipeline")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    else:
        call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench")
    project = Project.create_for(user, name="Benchmark")
    db = connection.settings_dict["NAME"]
    broker = "redis" if os.environ.get("REDIS_URL") else "orm"
    print(f"# riffweb pipeline benchmark: {args.songs} songs, render delay {args.render_delay:g}s, db {db}, "
          f"broker {broker}, logs in {WORK}", flush=True)
    names = {"riffusion": "dialect A (riffusion, polling)", "useapi": "dialect B (useapi, callbacks)"}
    for faults in [float(f) for f in args.faults.split(",")]:
        for dialect in args.dialects.split(","):
            print(f"# {names[dialect]}, {faults:.0%} faulted answers:", flush=True)
            run_riffweb(args, dialect, faults, project)
            if not args.skip_naive and faults == 0:
                run_naive(args, dialect, faults)


if __name__ == "__main__":
    main()
