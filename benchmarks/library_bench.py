"""Library and song-page benchmark: 10,000 songs over 50 projects, server time and queries.

Run with the venv's python (not part of the test run):

    .venv/bin/python benchmarks/library_bench.py [--songs 10000] [--projects 50] [--runs 40]

It builds its own SQLite file (var/bench.sqlite3 unless BENCH_SQLITE_PATH says otherwise),
fills it, then times requests through Django's test Client (middleware, view and template:
the server's whole share of a page) and counts queries with CaptureQueriesContext. Queries
are counted at a tenth of the size too, to show that they do not grow with the library.
Figures are printed as name=value lines. Targets: library_p95_ms <= 50 and
library_queries_per_page <= 10, the same at every size.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["SQLITE_PATH"] = os.environ.get("BENCH_SQLITE_PATH", str(ROOT / "var" / "bench.sqlite3"))
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="riffweb-bench-media-"))
# The test Client's host. setup_test_environment() is not called: it instruments every
# template render to copy its context for assertions, which would be timed as server work.
os.environ["ALLOWED_HOSTS"] = "testserver"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from riffweb.studio.models import Membership, Project, Song, Transform  # noqa: E402

WORDS = ("neon rain moon city river fire glass night summer ghost gold velvet static ocean "
         "highway paper echo signal winter crimson").split()
MODES = [Transform.Mode.PROFESSIONAL, Transform.Mode.INSPIRATION, Transform.Mode.COVER, Transform.Mode.EXTEND]


def reset_database() -> None:
    path = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)


def fill(songs: int, projects: int):
    """`songs` songs (two per request) over `projects` projects; the reader belongs to all."""
    from django.contrib.auth import get_user_model

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
                    transform=t, project_id=t.project_id, variant=variant, title=t.title, lyrics=t.lyrics,
                    tags=t.tags, status=Song.Status.DONE, progress=100, duration=30 + (t.pk % 90),
                    audio=f"songs/bench/{t.pk}-{variant}.wav", audio_format="wav",
                    created_at=t.created_at, finished_at=t.created_at))
        Song.objects.bulk_create(new_songs, batch_size=1000)
        favourites = Song.favourited_by.through
        favourites.objects.bulk_create(
            [favourites(song_id=pk, user_id=reader.pk) for pk in
             Song.objects.filter(pk__gt=have).values_list("pk", flat=True)[::17]], ignore_conflicts=True)
    return reader


def song_for_page(reader) -> Song:
    """A finished song with real audio, made from another (lineage), in a project the reader edits."""
    from tests.conftest import tone_wav

    project = Project.objects.filter(memberships__user=reader, memberships__role="owner").first()
    source = Song.objects.filter(project=project).first()
    transform = Transform.objects.create(project=project, mode=Transform.Mode.COVER, title="Bench cover",
                                         lyrics="[Verse]\nmoon", tags="synthwave", source_song=source)
    song = Song.objects.create(transform=transform, project=project, variant=0, title="Bench cover",
                               status=Song.Status.DONE, duration=2.0, audio_format="wav")
    song.audio.save("bench.wav", ContentFile(tone_wav()), save=True)
    return song


def pages(reader) -> dict[str, str]:
    from riffweb.library.views import PAGE_SIZE
    from riffweb.studio.access import songs_for

    library = reverse("library:song_list")
    last = max(1, -(-songs_for(reader).count() // PAGE_SIZE))
    return {
        "first": library,
        "middle": f"{library}?page={max(1, last // 2)}",
        "last": f"{library}?page={last}",
        "search": f"{library}?q=moon&sort=title",
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


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    reset_database()

    reader = fill(args.songs // 10, args.projects)
    client = Client()
    client.force_login(reader)
    small = {name: measure(client, url, 3)[1] for name, url in pages(reader).items()}

    reader = fill(args.songs, args.projects)
    song = song_for_page(reader)
    print(f"songs={Song.objects.count()}")
    print(f"projects={Project.objects.count()}")
    library_times, library_queries, ok = [], {}, True
    for name, url in pages(reader).items():
        times, queries = measure(client, url, args.runs)
        library_times += times
        library_queries[name] = queries
        print(f"library_{name}_p95_ms={p95(times):.1f}")
        print(f"library_{name}_queries={queries}")
        print(f"library_{name}_queries_at_{args.songs // 10}_songs={small[name]}")
        ok &= queries == small[name]
    library_cpu = list(CPU_TIMES)
    song_times, song_queries = measure(client, song.get_absolute_url(), args.runs)
    print(f"song_page_p95_ms={p95(song_times):.1f}")
    print(f"song_page_queries={song_queries}")
    print(f"library_median_ms={statistics.median(library_times):.1f}")
    print(f"library_p95_cpu_ms={p95(library_cpu):.1f}")
    print(f"load_average_1m={os.getloadavg()[0]:.2f}")
    print(f"library_p95_ms={p95(library_times):.1f}")
    print(f"library_queries_per_page={max(library_queries.values())}")
    print(f"library_queries_constant={'yes' if ok else 'no'}")
    library_met = ok and p95(library_times) <= 50 and max(library_queries.values()) <= 10
    song_met = p95(song_times) <= 50 and song_queries <= 10
    print(f"library_targets_met={'yes' if library_met else 'no'}")
    print(f"song_page_targets_met={'yes' if song_met else 'no'}")
    met = library_met and song_met
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
