"""The song cards' one status poll per page: what a card's version is, and what the page sends.

A page renders each unfinished card with a hidden `card` input, "<song id>:<version>"; the
page's poller sends them all at once, and the status view answers only the cards whose
version moved; a done song stays on the poll while it is `finishing` (its cover art and
waveform come after its audio). The version is the row's `changed_at`, its status and progress (so a writer
that forgets `changed_at` still shows), and what the card says beyond its row (the slow and
service-unreachable notices depend on the clock and on the service's state).
"""

import zlib
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CARDS = 200  # a project page shows 30 requests; a library page 25 songs
LOOKS = {"card", "player", "row"}  # the project page's cards, the song page's players, library rows


# What `version` reads (card_message included): the poll loads only these to compare.
VERSION_FIELDS = ("project_id", "status", "progress", "changed_at", "error", "failure", "last_progress_at",
                  "submitted_at", "finishing")


def version(song, unreachable: bool) -> str:
    micros = (song.changed_at - EPOCH) // timedelta(microseconds=1)
    message = zlib.crc32(song.card_message(unreachable).encode())
    return f"{micros}-{song.status}-{song.progress}-{message:08x}{'-finishing' if song.finishing else ''}"


def parse(values: list[str]) -> dict[int, str]:
    """{song id: version} from the page's `card` values; ValueError with a message on bad input."""
    if len(values) > MAX_CARDS:
        raise ValueError(f"At most {MAX_CARDS} songs per status request.")
    asked = {}
    for value in values:
        pk, colon, seen = value.partition(":")
        if not (colon and pk.isascii() and pk.isdigit() and len(pk) <= 18):
            raise ValueError("Each card is sent as <song id>:<version>.")
        asked[int(pk)] = seen
    return asked
