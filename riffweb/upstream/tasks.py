"""django-q2 entry points of the upstream pipeline. Each takes primary keys and is safe to run twice.

Nothing here enqueues by itself: `riffweb.queue` is the one seam that hands work to the broker.

- submit_transform(pk): one create call, claimed by a conditional UPDATE (see submit.py).
- pump(): the tracking chain (see tracker.py); hands over to its successor.
- drain_downloads(): another worker storing a burst of finished songs, and making stored songs' extras.
- send_upload(pk): sends a musician's upload upstream (see uploads.py).
- write_lyrics(pk): asks the service to write a lyrics draft (see lyrics_help.py).
"""

from __future__ import annotations

from riffweb import queue
from riffweb.upstream import lyrics_help, submit, tracker, uploads
from riffweb.upstream.models import UpstreamState


def submit_transform(transform_id: int) -> str:
    result = submit.submit_transform(transform_id)
    queue.kick_pump()
    return result


def drain_downloads() -> str:
    UpstreamState.drain_started()  # the pump may ask for the next one
    # A drain that reaches a worker while the pump's successor still waits in the queue (behind
    # it) takes the tracking over: no song waits for that successor meanwhile.
    if tracker.run_pump():
        queue.pump_successor()
        return "tracked: the pump's successor was still on its way"
    return f"{tracker.drain_downloads()} downloads"


def pump() -> str:
    """Track in-flight songs for a while, then hand over to a successor."""
    if not tracker.run_pump():
        return "another pump is running"
    queue.pump_successor()
    return "handed over"


def send_upload(upload_id: int) -> str:
    return uploads.send_upload(upload_id)


def write_lyrics(draft_id: int) -> str:
    return lyrics_help.write_lyrics(draft_id)
