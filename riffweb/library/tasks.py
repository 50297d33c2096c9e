"""The trash empties itself: songs trashed more than RIFFWEB_TRASH_DAYS ago are deleted.

A daily schedule runs it (created after every migrate by riffweb.queue.ensure_schedules).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from riffweb.studio.models import Song

log = logging.getLogger(__name__)


def empty_trash() -> int:
    """Safe to run twice or at once: each song row is deleted once, its file after it."""
    cutoff = timezone.now() - timedelta(days=settings.RIFFWEB_TRASH_DAYS)
    deleted = 0
    # song_library_recent starts with deleted_at: the scan reads only trashed rows.
    for song in Song.objects.filter(deleted_at__lt=cutoff).only("pk", *Song.FILE_FIELDS).iterator():
        count, _ = Song.objects.filter(pk=song.pk, deleted_at__lt=cutoff).delete()
        for file in (getattr(song, name) for name in Song.FILE_FIELDS) if count else ():
            if file:
                file.storage.delete(file.name)
        deleted += bool(count)
    if deleted:
        log.info("Emptied %d song(s) from the trash", deleted)
    return deleted

