"""Full-text search over a song's words (title, lyrics, tags, labels), with an index per vendor.

PostgreSQL: a GIN index over the tsvector expression `vector()`; the query uses the same
expression, so the planner answers it from the index. The index's answer for a prefix query
is exact (EXPLAIN ANALYZE shows exact heap blocks and no recheck of the expression), so a
stored tsvector column would save no time: measured at 100,000 songs, "moon" took the same
within noise either way, while the column would rewrite the table and forbid altering the
type of the columns it reads.

SQLite: an FTS5 table holding the same columns, kept in sync by triggers on the song table,
so every writer (verbs, bulk_create, QuerySet.update) keeps it true.

Both match every word the user typed as a prefix ("alp" finds "Alpha"), all words required;
punctuation is dropped, so no user input reaches either query language as syntax.
"""

from __future__ import annotations

import re

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections

FIELDS = ("title", "lyrics", "tags", "labels")
INDEX = "song_search"  # the library's search: Song.objects.matching(q)
FTS_TABLE = "studio_song_fts"
MAX_WORDS = 8
WORD = re.compile(r"\w+")


def vector() -> SearchVector:
    # 'simple': no stemming or stop words, so lyrics in any language match as typed.
    return SearchVector(*FIELDS, config="simple")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())[:MAX_WORDS]


def matching(songs, text: str):
    """`songs` narrowed to those holding every word of `text` (none when it has no word)."""
    terms = words(text)
    if not terms:
        return songs.none()
    if connections[songs.db].vendor == "postgresql":
        query = SearchQuery(" & ".join(f"{t}:*" for t in terms), search_type="raw", config="simple")
        return songs.annotate(words=vector()).filter(words=query)
    match = " ".join(f'"{t}"*' for t in terms)
    # Joined, not `pk IN (SELECT rowid ...)`: SQLite copies an IN list of every match into a
    # temporary index first (15,000 rowids for "moon" at 100,000 songs) before reading the songs.
    # The ORM cannot join a table that no model relates to, hence extra().
    song = songs.model._meta
    return songs.extra(tables=[FTS_TABLE], where=[f'{FTS_TABLE}.rowid = "{song.db_table}"."{song.pk.column}"',
                                                  f"{FTS_TABLE} MATCH %s"], params=[match])


def counts_in_window(vendor: str) -> bool:
    """Whether a search's page should bring its count along as a window over every match, in
    one query (PostgreSQL), or count apart, up to the search's cap (SQLite, whose window keeps
    a copy of every match before sorting). At 100,000 songs, "moon" (15,000 matches) sorted by
    title, medians: PostgreSQL 27 ms in one query against 33 ms in two; SQLite 35 ms against 29."""
    return vendor == "postgresql"


def refresh_statistics(connection) -> None:
    """SQLite plans from table statistics only once ANALYZE has gathered them; without them it
    answers a search by walking every song of the user's projects and testing each against the
    full-text matches (70 ms at 100,000 songs) instead of starting from the matches (20 ms).
    PostgreSQL's autovacuum keeps its own. The sample limit keeps this to milliseconds."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


def _sqlite_statements(table: str) -> list[str]:
    cols = ", ".join(FIELDS)
    new = ", ".join(f"new.{f}" for f in FIELDS)
    old = ", ".join(f"old.{f}" for f in FIELDS)
    remove = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    add = f"INSERT INTO {FTS_TABLE}(rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({cols}, content='{table}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF {cols} ON {table} "
        f"BEGIN {remove} {add} END",
    ]


def install(schema_editor, song_model) -> None:
    """Create the index for this database's vendor (migration 0009_song_search)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(song_model, GinIndex(vector(), name=INDEX))
    elif schema_editor.connection.vendor == "sqlite":
        _sqlite_triggers(schema_editor.connection, song_model._meta.db_table)


def repair(connection, song_model) -> None:
    """SQLite drops a table's triggers when a migration rebuilds the table (its way of
    altering columns): after every migrate, put them back and rebuild the FTS table from the
    songs, if the search is installed and a trigger is missing."""
    if connection.vendor != "sqlite" or FTS_TABLE not in connection.introspection.table_names():
        return
    _sqlite_triggers(connection, song_model._meta.db_table)


def _sqlite_triggers(connection, table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                       [f"{FTS_TABLE}_%"])
        if cursor.fetchone()[0] == 3:
            return
        for statement in _sqlite_statements(table):
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def uninstall(schema_editor, song_model) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')
        elif connection.vendor == "sqlite":
            for name in ("insert", "delete", "update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
