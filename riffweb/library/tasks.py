"""The trash empties itself: songs trashed more than RIFFWEB_TRASH_DAYS ago are deleted.

A daily schedule runs it (created after every migrate by riffweb.queue.ensure_schedules); it
also refreshes SQLite's planner statistics, which the library's search needs as it grows.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from riffweb.studio import search
from riffweb.studio.models import Song, SongFile, stored_files

log = logging.getLogger(__name__)


def empty_trash() -> int:
    """Safe to run twice or at once: each song row is deleted once, its file after it."""
    cutoff = timezone.now() - timedelta(days=settings.RIFFWEB_TRASH_DAYS)
    deleted = 0
    # song_library_recent starts with deleted_at: the scan reads only trashed rows.
    fields = stored_files(Song)
    for song in Song.objects.filter(deleted_at__lt=cutoff).only("pk", *fields).iterator():
        kept = SongFile.objects.filter(song=song).kept_names()  # its WAV and stems go with it
        count, _ = Song.objects.filter(pk=song.pk, deleted_at__lt=cutoff).delete()
        for file in (getattr(song, name) for name in fields) if count else ():
            if file:
                file.storage.delete(file.name)
        for name in kept if count else ():
            default_storage.delete(name)
        deleted += bool(count)
    if deleted:
        log.info("Emptied %d song(s) from the trash", deleted)
    search.refresh_statistics(connection)
    return deleted

