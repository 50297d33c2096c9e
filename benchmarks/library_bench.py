"""Library and song-page benchmark: 1,000 then 100,000 songs over 50 projects, time and queries.

Every song carries three marks (keeper/maybe/reject) and ten comments, as a reviewing team leaves them.

Run with the venv's python (not part of the test run):

    .venv/bin/python benchmarks/library_bench.py [--sizes 1000,100000] [--projects 50] [--runs 40]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/riffweb .venv/bin/python benchmarks/library_bench.py

It builds its own database: on SQLite a file (var/bench.sqlite3 unless BENCH_SQLITE_PATH says
otherwise), on PostgreSQL a database named riffweb_bench (or BENCH_PG_NAME) on DATABASE_URL's
server (dropped and made again; the database DATABASE_URL names is not touched; --keep fills
the one an earlier run left instead). It fills it with bulk_create up to each size in turn and,
in a new process each time, times the library's pages (first, middle, last, a search, every
sort, five filters) and a song page through Django's test Client (middleware, view and template:
the server's whole share of a page), counting queries with CaptureQueriesContext. Figures are
printed as name=value lines, suffixed with the size. Targets: p95 <= 50 ms and <= 10 queries per
page, the same count at every size.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["SQLITE_PATH"] = os.environ.get("BENCH_SQLITE_PATH", str(ROOT / "var" / "bench.sqlite3"))
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="riffweb-bench-media-"))
# The test Client's host. setup_test_environment() is not called: it instruments every
# template render to copy its context for assertions, which would be timed as server work.
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from riffweb.review.models import Comment  # noqa: E402
from riffweb.studio import search  # noqa: E402
from riffweb.studio.models import Membership, Project, Song, Transform  # noqa: E402
from riffweb.takes.models import Take, recount  # noqa: E402

WORDS = ("neon rain moon city river fire glass night summer ghost gold velvet static ocean "
         "highway paper echo signal winter crimson").split()
MODES = [Transform.Mode.PROFESSIONAL, Transform.Mode.INSPIRATION, Transform.Mode.COVER, Transform.Mode.EXTEND]


def reset_database() -> None:
    if connection.vendor == "postgresql":
        # Django's test-database machinery: drop, create and migrate a database of our own.
        connection.settings_dict["TEST"]["NAME"] = os.environ.get("BENCH_PG_NAME", "riffweb_bench")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        return
    path = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)


def fill(songs: int, projects: int):
    """`songs` songs (two per request) over `projects` projects; the reader belongs to all."""
    users = get_user_model().objects
    reader = users.filter(username="reader").first() or users.create_user("reader", "r@example.com", "x")
    teammate = users.filter(username="teammate").first() or users.create_user("teammate", "t@example.com", "x")
    existing = Project.objects.count()
    with transaction.atomic():
        for i in range(existing, projects):
            project = Project.create_for(teammate, name=f"Project {i:02}")
            role = ["owner", "editor", "viewer"][i % 3]
            Membership.objects.create(project=project, user=reader, role=role)
        project_ids = list(Project.objects.order_by("pk").values_list("pk", flat=True))
        have = Song.objects.count()
        now = timezone.now()
        transforms = []
        for n in range(have // 2, songs // 2):
            words = [WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(3)]
            transforms.append(Transform(
                project_id=project_ids[n % len(project_ids)], created_by=teammate, mode=MODES[n % len(MODES)],
                title=" ".join(words).title(), lyrics=f"[Verse]\n{' '.join(words)} tonight\n[Chorus]\n{words[0]}",
                tags=f"{words[1]}wave, {words[2]}", model="FUZZ-1.1", status="submitted",
                created_at=now - timezone.timedelta(minutes=n)))
        Transform.objects.bulk_create(transforms, batch_size=500)
        new_songs = []
        for t in Transform.objects.filter(songs__isnull=True):
            for variant in (0, 1):
                new_songs.append(Song(
                    transform=t, mode=t.mode, project_id=t.project_id, variant=variant, title=t.title, lyrics=t.lyrics,
                    tags=t.tags, status=Song.Status.DONE, progress=100, duration=30 + (t.pk % 90),
                    audio=f"songs/bench/{t.pk}-{variant}.wav", audio_format="wav",
                    created_at=t.created_at, finished_at=t.created_at))
        Song.objects.bulk_create(new_songs, batch_size=1000)
        favourites = Song.favourited_by.through
        favourites.objects.bulk_create(
            [favourites(song_id=pk, user_id=reader.pk) for pk in
             Song.objects.filter(pk__gt=have).values_list("pk", flat=True)[::17]], ignore_conflicts=True)
        # Three marks per song (issue 12's figure), mixed so that every takes filter finds some.
        critic = users.filter(username="critic").first() or users.create_user("critic", "c@example.com", "x")
        marks = ["keeper", "maybe", "reject"]
        Take.objects.bulk_create(
            [Take(song_id=pk, user_id=user.pk, mark=marks[(pk + k) % 3 if k else pk % 2 * 2])
             for pk in Song.objects.filter(pk__gt=have).values_list("pk", flat=True)
             for k, user in enumerate((reader, teammate, critic))], batch_size=2000, ignore_conflicts=True)
        recount(Song.objects.filter(pk__gt=have))
        # Ten comments per song (issue 12's figure): the library's rows must not pay for them.
        new_ids = list(Song.objects.filter(pk__gt=have).values_list("pk", flat=True))
        authors = [reader.pk, teammate.pk, critic.pk]
        yesterday = now - timezone.timedelta(days=1)  # outside the hourly comment limit
        for start in range(0, len(new_ids), 10_000):
            Comment.objects.bulk_create(
                [Comment(song_id=pk, author_id=authors[k % 3], text=f"Note {k} at 0:0{k}", at=k,
                         created_at=yesterday, changed_at=yesterday)
                 for pk in new_ids[start:start + 10_000] for k in range(10)], batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after such a load (the
            cursor.execute("VACUUM ANALYZE")  # recount's update left a dead copy of every row)
    else:  # what the daily upkeep (riffweb.library.tasks.empty_trash) does
        search.refresh_statistics(connection)
    return reader


COVER = "Bench cover"  # the song page's song


def song_for_page(reader) -> Song:
    """A finished song with real audio, made from another (lineage), in a project the reader edits,
    with ten comments; the one an earlier run made (--keep), so that runs measure the same page."""
    from tests.conftest import tone_wav

    project = Project.objects.filter(memberships__user=reader, memberships__role="owner").first()
    if made := Song.objects.filter(project=project, title=COVER).first():
        return made
    source = Song.objects.filter(project=project).first()
    transform = Transform.objects.create(project=project, mode=Transform.Mode.COVER, title=COVER,
                                         lyrics="[Verse]\nmoon", tags="synthwave", source_song=source)
    song = Song.objects.create(transform=transform, mode=transform.mode, project=project, variant=0, title=COVER,
                               status=Song.Status.DONE, duration=2.0, audio_format="wav")
    song.audio.save("bench.wav", ContentFile(tone_wav()), save=True)
    # Ten comments under review, three with a reply: the page's cost must not grow with them.
    for i in range(10):
        comment = Comment.objects.post(song=song, author=reader, text=f"Note {i} at 0:01", at=i / 10)
        if i < 3:
            Comment.objects.post(song=song, author=reader, text="Agreed", parent=comment)
    return song


def pages(reader) -> dict[str, str]:
    """The pages as a reader reaches them: deep pages by the "Next page" link, which names the
    previous page's last song (after=) as well as the page's number; `last_by_number` is the
    same page asked for by its number alone (a typed or bookmarked ?page=), which still pays OFFSET
    and is printed but left out of `library_p95_ms`."""
    from riffweb.library.views import PAGE_SIZE
    from riffweb.studio.access import songs_for

    library = reverse("library:song_list")
    newest = songs_for(reader).order_by("-created_at", "-pk").values_list("pk", flat=True)
    last = max(1, -(-newest.count() // PAGE_SIZE))
    middle = max(2, last // 2)

    def linked(number: int) -> str:
        return f"{library}?after={newest[(number - 1) * PAGE_SIZE - 1]}&page={number}"

    return {
        "first": library,
        "middle": linked(middle),
        "last": linked(last),
        "last_by_number": f"{library}?page={last}",
        "search": f"{library}?q=moon&sort=title",
        # Every other sort the list offers, first page.
        "oldest": f"{library}?sort=oldest",
        "title": f"{library}?sort=title",
        "shortest": f"{library}?sort=shortest",
        "longest": f"{library}?sort=longest",
        "keepers": f"{library}?takes=keepers&sort=keepers",
        "failed": f"{library}?status=failed",
        "covers": f"{library}?mode=cover",
        "last_week": f"{library}?since={timezone.localdate() - timedelta(days=7)}",
        "undecided": f"{library}?takes=undecided",
    }


CPU_TIMES: list[float] = []  # the same requests' CPU time: what the server did, without waiting


def measure(client: Client, url: str, runs: int) -> tuple[list[float], int]:
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)  # now: the next request clears the connection's query log
    times = []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.thread_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        CPU_TIMES.append((time.thread_time() - cpu) * 1000)
        assert response.status_code == 200
    return times, queries


def calibration_ms() -> float:
    """Milliseconds for a fixed piece of pure-Python work, best of five: how fast this machine runs
    right now. A shared machine's speed drifts (the same page took 25 ms one hour and 40 the next),
    so figures from different runs compare only next to this."""
    def work() -> int:
        return sum(i % 7 for i in range(300_000))

    best = float("inf")
    for _ in range(5):
        start = time.thread_time()
        work()
        best = min(best, (time.thread_time() - start) * 1000)
    return best


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def use_bench_database() -> None:
    """Point this process at the database reset_database made (for --keep and the measuring process)."""
    if connection.vendor == "postgresql":
        connection.close()
        connection.settings_dict["NAME"] = os.environ.get("BENCH_PG_NAME", "riffweb_bench")


def measure_library(size: int, runs: int, song_page: bool) -> None:
    """Time the filled library's pages (and, with song_page, a song page) in this process."""
    reader = get_user_model().objects.get(username="reader")
    client = Client()
    client.force_login(reader)
    library_times, queries = [], {}
    for name, url in pages(reader).items():
        times, queries[name] = measure(client, url, runs)
        if name != "last_by_number":  # reported on its own: no link of the list leads there
            library_times += times
        print(f"library_{name}_p50_ms_at_{size}={statistics.median(times):.1f}")
        print(f"library_{name}_p95_ms_at_{size}={p95(times):.1f}")
        print(f"library_{name}_queries_at_{size}={queries[name]}")
    print(f"library_p95_ms_at_{size}={p95(library_times):.1f}")
    print(f"library_p95_cpu_ms_at_{size}={p95(CPU_TIMES):.1f}")
    print(f"library_queries_per_page_at_{size}={max(queries.values())}")
    if song_page:
        song = song_for_page(reader)
        song_times, song_queries = measure(client, song.get_absolute_url(), runs)
        print(f"song_page_p95_ms={p95(song_times):.1f}")
        print(f"song_page_queries={song_queries}")


def measured_apart(size: int, runs: int, song_page: bool) -> dict[str, str]:
    """measure_library in a new process, its figures passed on and returned. The process that
    filled the library holds its heap of a million freed objects, scattered: the same pages
    took it a third longer than a new process (a first page 38 ms against 30, a search 58 against
    47), and a web server's process never loads 100,000 songs."""
    command = [sys.executable, __file__, "--measure", str(size), "--runs", str(runs)]
    output = subprocess.run(command + ["--song-page"] * song_page, check=True, stdout=subprocess.PIPE, text=True).stdout
    sys.stdout.write(output)
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="comma-separated library sizes, ascending")
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true",
                        help="fill the database of an earlier run up to the sizes instead of starting afresh")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the measuring process's size
    parser.add_argument("--song-page", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        use_bench_database()
        measure_library(args.measure, args.runs, args.song_page)
        return 0
    sizes = [int(n) for n in args.sizes.split(",")]
    if args.keep:
        use_bench_database()
        call_command("migrate", verbosity=0)
        if (held := Song.objects.exclude(title=COVER).count()) > sizes[0]:  # the song page's song aside
            parser.error(f"the database holds {held} songs: --keep needs sizes of at least that")
    else:
        reset_database()
    print(f"database={connection.vendor}")
    print(f"calibration_ms_at_start={calibration_ms():.1f}")
    figures = {}
    for size in sizes:
        started = time.perf_counter()
        fill(size, args.projects)
        print(f"songs={Song.objects.count()} seeded_in_s={time.perf_counter() - started:.1f}", flush=True)
        figures |= measured_apart(size, args.runs, song_page=size == sizes[-1])
    queries = [{k.removesuffix(f"_at_{size}"): v for k, v in figures.items()
                if k.startswith("library_") and k.endswith(f"_queries_at_{size}")} for size in sizes]
    constant = all(q == queries[0] for q in queries)
    print(f"library_queries_constant={'yes' if constant else 'no'}")
    print(f"calibration_ms_at_end={calibration_ms():.1f}")
    print(f"load_average_1m={os.getloadavg()[0]:.2f}")
    met = constant and all(
        float(figures[f"library_p95_ms_at_{size}"]) <= 50 and int(figures[f"library_queries_per_page_at_{size}"]) <= 10
        for size in sizes
    ) and float(figures["song_page_p95_ms"]) <= 50 and int(figures["song_page_queries"]) <= 10
    print(f"targets_met={'yes' if met else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
