"""The library's pages of songs, cheap at any depth.

Page numbers alone make the database count every song and skip (OFFSET) past all the
earlier pages: at 100,000 songs on PostgreSQL that was most of a deep page's time. So the
"Next" and "Previous" links seek from the last or first song shown (`after=` / `before=`,
keyset pagination: an index range scan of one page), and the count stops at COUNT_CAP
("10000+ songs"; a search's at SEARCH_COUNT_CAP). A bare `?page=N` (a typed or old link) still
works by offset.

Keyset seeking needs a sort whose fields are never NULL (NULLs sort first on SQLite and last
on PostgreSQL); other sorts, and searches, page by offset. On PostgreSQL a search's page and
its count come from one query (`_search_window`; see riffweb.studio.search.counts_in_window).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Count, Q, QuerySet, Window

from riffweb.studio import search

PAGE_SIZE = 25
# Beyond this the count is shown as "10000+": exact counts of huge libraries cost more than a page.
COUNT_CAP = 10_000
# A search says "1000+": past that a musician adds a word rather than pages on, and on SQLite,
# which counts a search apart from its page, counting on to 10,000 was a third of the page's
# database time ("moon" at 100,000 songs, 15,000 matches: 7.2 ms against 1.4).
SEARCH_COUNT_CAP = 1_000
SEEKABLE = {"created_at", "title", "pk", "keepers", "rejects"}  # NOT NULL sort fields


@dataclass
class SongPage:
    ids: list[int]
    number: int
    count: int
    count_capped: bool
    has_previous: bool
    has_next: bool
    links: dict[str, str] = field(default_factory=dict)  # "previous"/"next" -> query string
    object_list: list = field(default_factory=list)

    @property
    def num_pages(self) -> int | None:
        """None when the count was capped: the last page is not known."""
        return None if self.count_capped else max(1, -(-self.count // PAGE_SIZE))

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def _number(value, default: int = 1) -> int:
    """A positive whole number from a query parameter, else `default` (no input is an error)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18 and int(value) > 0:
        return int(value)
    return default


def ordered(songs: QuerySet, order: tuple[str, ...]) -> QuerySet:
    """`songs` (live ones) in `order`. Every live song's deleted_at is NULL, so leading with it
    changes no order; but PostgreSQL takes `IS NULL` as a condition, not as an equality that
    fixes the column, and without it sorts every song instead of reading the sort's index in
    order (54 ms against 0.3 ms for a first page at 100,000 songs). Each sort's index starts
    (deleted_at, then its first field descending), so a descending sort reads it forwards behind
    an ascending deleted_at, and an ascending sort backwards behind a descending one."""
    return songs.order_by("deleted_at" if order[0].startswith("-") else "-deleted_at", *order)


def seekable(order: tuple[str, ...]) -> bool:
    return all(name.lstrip("-") in SEEKABLE for name in order)


def _seek(songs: QuerySet, order: tuple[str, ...], anchor: dict, forward: bool) -> QuerySet:
    """`songs` strictly after (or before) the anchor's values in `order`, nearest first.

    The OR of "greater, or equal and greater in the next field" is exact; the redundant bound
    on the first field lets the database start its index range there (SQLite would otherwise
    scan from the top)."""
    after, equal = Q(), {}
    for name in order:
        column = name.lstrip("-")
        descending = name.startswith("-") != (not forward)
        after |= Q(**equal, **{f"{column}__{'lt' if descending else 'gt'}": anchor[column]})
        equal[column] = anchor[column]
    first = order[0].lstrip("-")
    bound = "lte" if order[0].startswith("-") == forward else "gte"
    flipped = order if forward else tuple(n[1:] if n.startswith("-") else f"-{n}" for n in order)
    return ordered(songs.filter(after, **{f"{first}__{bound}": anchor[first]}), flipped)


def _count(ids, cap: int) -> tuple[int, bool]:
    # COUNT(*) over a LIMITed subquery stops at the cap; unordered, so nothing is sorted first.
    count = ids.order_by()[:cap + 1].count()
    return min(count, cap), count > cap


def _search_window(songs: QuerySet, order: tuple[str, ...], number: int) -> tuple[list[int], int, int]:
    """Page `number` of a search's ids (and one more, to know of a next page), its number, and
    how many songs match, in one query: the count rides along as a window over every match, so
    the matches are found once and only the page is sorted. (At 100,000 songs "moon" matches
    15,000: sorting all their titles and sending every id to Python took PostgreSQL a median
    71 ms, this 44 ms.)

    Ordered without `ordered()`'s deleted_at lead: with a LIMIT, that lead makes PostgreSQL
    walk song_library_recent and test every song against the search, instead of taking the
    matches from the search index (EXPLAIN ANALYZE: 1.35 s against 47 ms)."""
    matches = songs.order_by(*order).annotate(matches=Window(Count("pk"))).values_list("pk", "matches")

    def window(n: int) -> tuple[list[int], int]:
        rows = list(matches[(n - 1) * PAGE_SIZE:n * PAGE_SIZE + 1])
        return [pk for pk, _ in rows], rows[0][1] if rows else 0

    ids, total = window(number)
    if not ids and number > 1:  # past the end (so no count came back): the last page
        ids, total = window(1)
        number = max(1, -(-total // PAGE_SIZE))
        if number > 1:
            ids, total = window(number)
    return ids, number, total


def page_of(songs: QuerySet, order: tuple[str, ...], params, query: str, searching: bool) -> SongPage:
    """One page of song ids from `songs` (already filtered and ordered by `order`).

    `params` is request.GET; `query` is the list's other parameters, urlencoded, kept in links.
    """
    prefix = f"{query}&" if query else ""
    cap = SEARCH_COUNT_CAP if searching else COUNT_CAP
    number = _number(params.get("page"))
    anchor_pk = _number(params.get("after") or params.get("before"), default=0)
    forward = "before" not in params
    anchor = None
    if anchor_pk and not searching and seekable(order):
        # Only a song of this very list anchors a page: nothing about other songs leaks.
        columns = [n.lstrip("-") for n in order]
        anchor = songs.filter(pk=anchor_pk).values(*columns).first()
    if searching and search.counts_in_window(connections[songs.db].vendor):
        window, number, total = _search_window(songs, order, number)
        count, capped = min(total, cap), total > cap
        page_ids, has_previous, has_next = window[:PAGE_SIZE], number > 1, len(window) > PAGE_SIZE
    elif anchor:
        count, capped = _count(songs.values_list("pk", flat=True), cap)
        window = list(_seek(songs, order, anchor, forward).values_list("pk", flat=True)[:PAGE_SIZE + 1])
        more = len(window) > PAGE_SIZE
        window = window[:PAGE_SIZE]
        if forward:
            page_ids, has_previous, has_next = window, True, more
        else:
            page_ids, has_previous, has_next = window[::-1], more, True
            number = number if more else 1
    else:
        ids = songs.values_list("pk", flat=True)
        count, capped = _count(ids, cap)
        last = max(1, -(-count // PAGE_SIZE))
        number = min(number, last) if not capped else number
        offset = (number - 1) * PAGE_SIZE
        window = list(ids[offset:offset + PAGE_SIZE + 1])
        if not window and number > 1:  # past the end of a capped count: the first page
            number, window = 1, list(ids[:PAGE_SIZE + 1])
        page_ids, has_previous, has_next = window[:PAGE_SIZE], number > 1, len(window) > PAGE_SIZE
    page = SongPage(page_ids, number, count, capped, has_previous, has_next)
    seek = not searching and seekable(order) and page_ids
    if has_next:
        page.links["next"] = (f"{prefix}after={page_ids[-1]}&page={number + 1}" if seek
                              else f"{prefix}page={number + 1}")
    if has_previous:
        page.links["previous"] = (f"{prefix}before={page_ids[0]}&page={number - 1}" if seek and number > 2
                                  else f"{prefix}page={number - 1}")
    return page
