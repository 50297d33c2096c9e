"""Live feeds: other parts of a page that ride the song cards' one status poll.

A page that shows something live renders a hidden input `name="live"` with the value
"<feed>:<key>:<version>" (for example "comments:12:3-1764500000000000"). The poller sends
these with the cards; the status view asks each feed for the current versions of the keys
the user may see (one cheap query per feed) and answers only the stale ones, rendered by
the feed as out-of-band swaps that carry the new version. While a page holds a live input,
its poll keeps running at the same cadence instead of stopping with 286.

An app registers a feed in its AppConfig.ready():
    live.register("comments", versions, render)
    versions(user, keys) -> {key: version} for the keys the user may see
    render(request, keys) -> str: the out-of-band swaps for those keys
"""

from collections.abc import Callable
from dataclasses import dataclass

MAX_LIVE = 20  # a song page shows one comment list; a few more feeds may come


@dataclass(frozen=True)
class Feed:
    versions: Callable
    render: Callable


FEEDS: dict[str, Feed] = {}


def register(name: str, versions: Callable, render: Callable) -> None:
    FEEDS[name] = Feed(versions, render)


def parse(values: list[str]) -> dict[str, dict[int, str]]:
    """{feed: {key: version}} from the page's `live` values; ValueError with a message on bad input."""
    if len(values) > MAX_LIVE:
        raise ValueError(f"At most {MAX_LIVE} live parts per status request.")
    asked: dict[str, dict[int, str]] = {}
    for value in values:
        name, _, rest = value.partition(":")
        key, colon, seen = rest.partition(":")
        if name not in FEEDS or not (colon and key.isascii() and key.isdigit() and len(key) <= 18):
            raise ValueError("Each live part is sent as <feed>:<id>:<version>.")
        asked.setdefault(name, {})[int(key)] = seen
    return asked


def stale(user, asked: dict[str, dict[int, str]]) -> dict[str, list[int]]:
    """{feed: keys whose version moved}, among the keys the user may see."""
    moved = {}
    for name, seen in asked.items():
        now = FEEDS[name].versions(user, list(seen))
        keys = sorted(key for key, version in now.items() if seen[key] != version)
        if keys:
            moved[name] = keys
    return moved


def render(request, moved: dict[str, list[int]]) -> list[str]:
    return [FEEDS[name].render(request, keys) for name, keys in moved.items()]
