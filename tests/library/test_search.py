"""Library search: full-text, from an index on each database, in a constant number of queries.

Marked `postgres`, so bin/test's second pass runs it again on PostgreSQL (its GIN index);
the first pass runs it on SQLite (its FTS5 table).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from riffweb.library import paging
from riffweb.studio import search
from riffweb.studio.models import Project, Song, Transform
from tests.conftest import make_request

pytestmark = pytest.mark.postgres

LIBRARY = reverse("library:song_list")


def rows(response) -> int:
    assert response.status_code == 200
    return response.content.decode().count('class="library-row')


def found(client, q: str) -> str:
    return client.get(LIBRARY, {"q": q}).content.decode()


def test_every_word_must_match_as_a_prefix_in_any_field(owner_client, owner, project):
    make_request(project, owner, title="Alpha", lyrics="[Verse]\nMoonlight over the river", tags="jazz")
    make_request(project, owner, title="Beta", lyrics="[Verse]\nsunrise", tags="synthwave, metal")
    assert "Alpha" in found(owner_client, "moon river") and "Beta" not in found(owner_client, "moon river")
    assert "Beta" in found(owner_client, "SYNTH") and "Alpha" not in found(owner_client, "synth")
    assert rows(owner_client.get(LIBRARY, {"q": "moon metal"})) == 0


def test_query_syntax_is_taken_as_plain_words(owner_client, owner, project):
    make_request(project, owner, title="Rock & roll", lyrics='"quoted" NEAR(a b) title:* OR')
    for q in ['"', "NEAR(", "rock & !", "title:*", "a OR b*", "'); DROP TABLE x; --", "***"]:
        assert owner_client.get(LIBRARY, {"q": q}).status_code == 200, q
    assert "Rock &amp; roll" in found(owner_client, "rock & roll!")
    assert "Rock &amp; roll" in found(owner_client, '"quoted"')
    assert rows(owner_client.get(LIBRARY, {"q": "***"})) == 0


def test_it_finds_renamed_relabelled_and_bulk_created_songs_and_forgets_deleted_ones(owner_client, owner, project):
    transform = make_request(project, owner, title="Old name")
    song = transform.songs.get(variant=0)
    owner_client.post(reverse("library:song_rename", args=[song.pk]), {"title": "Velvet highway"})
    owner_client.post(reverse("library:song_labels", args=[song.pk]), {"labels": "keeper"})
    assert "Velvet highway" in found(owner_client, "velvet keep")
    Song.objects.bulk_create([Song(transform=transform, mode=transform.mode, project=project, variant=5, title="Glass ocean")])
    assert "Glass ocean" in found(owner_client, "glass")
    Song.objects.filter(title="Glass ocean").delete()
    assert rows(owner_client.get(LIBRARY, {"q": "glass"})) == 0


def test_a_song_changed_by_a_queryset_update_is_found_by_its_new_words(owner_client, owner, project):
    make_request(project, owner, title="Crimson", tags="jazz")
    Song.objects.filter(project=project).update(title="Winter static", tags="dub", labels="keeper")
    assert rows(owner_client.get(LIBRARY, {"q": "winter dub keep"})) == 2
    assert rows(owner_client.get(LIBRARY, {"q": "crimson"})) == rows(owner_client.get(LIBRARY, {"q": "jazz"})) == 0


def test_it_shows_only_songs_i_may_hear(owner_client, owner, stranger, project):
    make_request(project, owner, title="Mine moon")
    make_request(Project.create_for(stranger, name="Secret"), stranger, title="Their moon")
    html = found(owner_client, "moon")
    assert "Mine moon" in html and "Their moon" not in html
    project.songs.first().trash()
    assert rows(owner_client.get(LIBRARY, {"q": "moon"})) == 1


def _songs(project, owner, count: int) -> None:
    transforms = Transform.objects.bulk_create(
        [Transform(project=project, created_by=owner, mode=Transform.Mode.PROFESSIONAL, title=f"Moon {i}")
         for i in range(count // 2)])
    Song.objects.bulk_create([Song(transform=t, mode=t.mode, project=project, variant=v, title=t.title,
                                   lyrics="neon moon") for t in transforms for v in (0, 1)])


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIBRARY, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", [{}, {"q": "moon"}, {"q": "neon mo", "sort": "title", "page": "2"}])
def test_a_page_costs_the_same_few_queries_with_thirty_or_two_hundred_songs(owner_client, owner, project, params):
    _songs(project, owner, 30)  # two pages: the second is a page at both sizes, not past the end
    few = _queries(owner_client, params)
    _songs(project, owner, 170)
    assert _queries(owner_client, params) == few <= 10


def test_a_search_page_shows_how_many_songs_match_and_past_the_end_the_last_page(owner_client, owner, project):
    _songs(project, owner, 30)
    make_request(project, owner, title="Sunrise")
    first = owner_client.get(LIBRARY, {"q": "moon", "sort": "title"}).content.decode()
    assert "30 songs" in first and "Page 1 of 2" in first and rows(owner_client.get(LIBRARY, {"q": "moon"})) == 25
    last = owner_client.get(LIBRARY, {"q": "moon", "sort": "title", "page": "99"}).content.decode()
    assert "Page 2 of 2" in last and last.count('class="library-row') == 5 and "Moon 9" in last


def test_the_search_is_answered_from_its_index(owner, project):
    make_request(project, owner, title="Neon")
    songs = search.matching(Song.objects.all(), "neon")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny table, whose statistics depend on the tests before: leave the planner only the
            # bitmap scans, so it shows whether an index can answer the search at all.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        assert songs.exists()
        sql, params = songs.query.sql_with_params()
        explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
        cursor.execute(f"{explain} {sql}", params)
        plan = str(cursor.fetchall())
    assert (search.INDEX if connection.vendor == "postgresql" else search.FTS_TABLE) in plan


def test_a_rebuilt_song_table_gets_its_search_triggers_back_after_migrate(owner_client, owner, project):
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite drops triggers when a migration rebuilds a table")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_update")
    search.repair(connection, Song)
    make_request(project, owner, title="Crimson").songs.update(title="Winter static")
    assert "Winter static" in found(owner_client, "winter")


def test_a_search_counts_its_matches_up_to_its_own_cap_and_pages_on_past_it(owner_client, owner, project,
                                                                              monkeypatch):
    monkeypatch.setattr(paging, "SEARCH_COUNT_CAP", 10)
    _songs(project, owner, 30)
    first = owner_client.get(LIBRARY, {"q": "moon", "sort": "title"}).content.decode()
    assert "10+ songs" in first and "Page 1</span>" in first and "Next page" in first
    second = owner_client.get(LIBRARY, {"q": "moon", "sort": "title", "page": "2"}).content.decode()
    assert "Page 2</span>" in second and second.count('class="library-row') == 5 and "Next page" not in second
    assert "30 songs" in owner_client.get(LIBRARY).content.decode()  # the list's own count is not a search's
