"""The library's pages: Next/Previous seek from the songs shown (no OFFSET), the count stops at a cap."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from riffweb.library import paging
from riffweb.library.forms import LibraryFilterForm
from riffweb.studio.access import songs_for
from riffweb.takes.models import keepers
from riffweb.studio.models import Project, Song
from tests.conftest import finish_song, make_request

LIBRARY = reverse("library:song_list")


def rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="song-row-(\d+)"', html)]


def link(html: str, label: str) -> str | None:
    found = re.search(rf'<a href="\?([^"]*)"\s[^>]*>{label}', html)
    return found and found.group(1).replace("&amp;", "&")


def walk(client, params: dict) -> tuple[list[list[int]], list[str]]:
    """Follow "Next page" to the end, then "Previous page" back: the pages seen and their links."""
    html = client.get(LIBRARY, params).content.decode()
    forward, links = [rows(html)], []
    while next_query := link(html, "Next page"):
        links.append(next_query)
        html = client.get(f"{LIBRARY}?{next_query}").content.decode()
        forward.append(rows(html))
    backward = [rows(html)]
    while previous_query := link(html, "← Previous page"):
        links.append(previous_query)
        html = client.get(f"{LIBRARY}?{previous_query}").content.decode()
        backward.append(rows(html))
    assert backward[::-1] == forward  # the same pages on the way back
    return forward, links


def test_next_and_previous_walk_every_song_once_in_order_by_seeking(owner_client, owner, project):
    for i in range(40):  # 80 songs: four pages
        make_request(project, owner, title=f"Song {i % 7}")
    expected = list(Song.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))
    pages, links = walk(owner_client, {})
    assert [len(p) for p in pages] == [25, 25, 25, 5]
    assert sum(pages, []) == expected
    assert any("after=" in q for q in links) and any("before=" in q for q in links)

    by_title = list(Song.objects.order_by("title", "pk").values_list("pk", flat=True))
    pages, links = walk(owner_client, {"sort": "title"})  # many equal titles: the pk breaks ties
    assert sum(pages, []) == by_title and all("sort=title" in q for q in links)

    for n, song in enumerate(Song.objects.order_by("pk")):  # many ties in both counts
        Song.objects.filter(pk=song.pk).update(keepers=n % 3, rejects=n % 2)
    by_keepers = list(Song.objects.order_by("-keepers", "rejects", "-created_at", "-pk").values_list("pk", flat=True))
    pages, links = walk(owner_client, {"sort": "keepers"})
    assert sum(pages, []) == by_keepers and any("after=" in q for q in links)


def test_sorts_on_a_field_that_may_be_empty_page_by_number(owner_client, owner, project):
    for i in range(15):
        song = make_request(project, owner).songs.get(variant=0)
        if i % 2:
            finish_song(song, seconds=1 + i % 4)  # the others have no duration yet
    expected = list(Song.objects.order_by("duration", "pk").values_list("pk", flat=True))
    pages, links = walk(owner_client, {"sort": "shortest"})
    assert sum(pages, []) == expected
    assert links and not any("after=" in q or "before=" in q for q in links)


def test_a_page_shows_its_number_and_the_capped_count(owner_client, owner, project, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 30)
    for i in range(20):
        make_request(project, owner)
    html = owner_client.get(LIBRARY).content.decode()
    assert "30+ songs" in html and "Page 1</span>" in html and " of " not in html.split("Page 1")[1][:10]
    second = owner_client.get(f"{LIBRARY}?{link(html, 'Next page')}").content.decode()
    assert "Page 2</span>" in second and len(rows(second)) == 15 and not link(second, "Next page")
    monkeypatch.setattr(paging, "COUNT_CAP", 10_000)
    assert "Page 1 of 2" in owner_client.get(LIBRARY).content.decode()


def test_an_anchor_i_may_not_see_or_that_is_not_a_number_gives_the_first_page(owner_client, owner, project,
                                                                               stranger):
    for i in range(15):
        make_request(project, owner)
    theirs = make_request(Project.create_for(stranger, name="Secret"), stranger).songs.first()
    first = rows(owner_client.get(LIBRARY).content.decode())
    for params in ({"after": theirs.pk}, {"before": theirs.pk}, {"after": "x"}, {"after": "9" * 30},
                   {"page": "-1"}):
        response = owner_client.get(LIBRARY, params)
        assert response.status_code == 200 and rows(response.content.decode()) == first, params
    last = owner_client.get(LIBRARY, {"page": "99999"}).content.decode()  # past the end: the last page
    assert len(rows(last)) == 5 and "Page 2 of 2" in last


def test_rows_carry_no_form_or_token_of_their_own_and_post_the_one_row_actions_form(owner_client, owner, project):
    for i in range(15):
        make_request(project, owner)
    html = owner_client.get(LIBRARY, headers={"HX-Request": "true", "HX-Target": "song-list"}).content.decode()
    assert len(rows(html)) == 25
    assert html.count('name="csrfmiddlewaretoken"') == 2  # the list's bulk form and row-actions form
    assert html.count('<form id="row-actions" method="post"') == 1
    song = Song.objects.order_by("-created_at", "-pk").first()
    favourite = reverse("library:song_favourite", args=[song.pk])
    assert f'form="row-actions" formaction="{favourite}" name="favourite" value="1"' in html
    assert f'href="{song.get_absolute_url()}"' in html
    # Without JavaScript the button submits that form to its own URL: the song is a favourite.
    response = owner_client.post(favourite, {"favourite": "1", "next": LIBRARY})
    assert response.status_code == 302 and song.favourited_by.filter(pk=owner.pk).exists()


def plan(sql: str, params=()) -> str:
    """The database's plan for a query. On PostgreSQL only index scans are left to it: the tables
    here are tiny, and it would read them whole; the plan then shows which index serves."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row) for row in cursor.fetchall())


def sorts_the_songs(plan: str) -> bool:
    return "Sort Key: studio_song" in plan or "FOR ORDER BY" in plan


def test_the_keepers_filter_is_counted_from_an_index_of_the_keepers_only(owner, project):
    for n in range(6):
        Song.objects.filter(pk=make_request(project, owner).songs.get(variant=0).pk).update(keepers=n % 2)
    counted = keepers(songs_for(owner)).order_by().values("pk")[:paging.COUNT_CAP + 1]
    assert len(counted) == 3
    assert "song_library_keepers_only" in plan(*counted.query.sql_with_params())


def test_every_sort_reads_its_page_from_an_index_in_order_without_sorting_the_songs(owner, project):
    for i in range(6):
        finish_song(make_request(project, owner, title=f"Song {i}").songs.get(variant=0), seconds=1 + i)
    for name, order in LibraryFilterForm.SORTS.items():
        for forward in (True, False):  # a page, and the page before an anchor (order flipped)
            sort = order if forward else tuple(n[1:] if n.startswith("-") else f"-{n}" for n in order)
            page = paging.ordered(songs_for(owner), sort).values("pk")[:paging.PAGE_SIZE + 1]
            read = plan(*page.query.sql_with_params())
            assert "song_library_" in read and not sorts_the_songs(read), (name, sort, read)


@pytest.mark.parametrize("params, sought", [
    # A date filter: a range of created_at, not a date computed for every song.
    ({"since": "2026-01-01", "until": "2026-12-31"},
     r"song_library_recent \(deleted_at=\? AND created_at>\? AND created_at<\?\)"
     r"|song_library_recent.*Index Cond: \(\(deleted_at IS NULL\) AND \(created_at >= .*created_at <"),
    # A status: its songs, newest first, without walking every other song (a filter for the rare
    # failed songs read all 100,000 on SQLite, whose statistics do not tell rare values apart).
    # PostgreSQL's do, so on a table this small either index serves it.
    ({"status": "failed"}, r"song_library_status \(status=\? AND deleted_at=\?\)"
                           r"|Index (Only )?Scan using song_library_(status|recent)"),
    # A mode: the song's own copy of its request's, not a join of every song to its request.
    ({"mode": "cover"}, r"song_library_mode \(mode=\? AND deleted_at=\?\)"
                        r"|Index (Only )?Scan using song_library_(mode|recent)"),
])
def test_a_filter_is_sought_in_an_index_in_the_lists_order(owner_client, owner, project, params, sought):
    for i in range(6):
        make_request(project, owner)
    with CaptureQueriesContext(connection) as captured:
        assert owner_client.get(LIBRARY, params).status_code == 200
    page = next(q["sql"] for q in captured if q["sql"].startswith('SELECT "studio_song"."id"') and "LIMIT" in q["sql"])
    read = plan(page)
    assert re.search(sought, read) and not sorts_the_songs(read), read
