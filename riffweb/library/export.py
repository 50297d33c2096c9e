"""Several songs as one zip: each song's audio beside a JSON sidecar with everything about it, and
its timed lyrics (.lrc) and cover art when the service made them."""

import json
import tempfile
import zipfile

from django.utils.text import slugify

from riffweb import media
from riffweb.studio.models import Song

MAX_LINEAGE = 50


def lineage(song: Song, visible: set[int]) -> list[dict]:
    """The song's ancestors, nearest first: the songs or upload each request started from.

    The chain stops at the first ancestor in a project outside `visible` (the projects the
    person exporting may see): a moved song never reveals where it came from.
    """
    chain, seen, transform = [], {song.pk}, song.transform
    while transform is not None and len(chain) < MAX_LINEAGE:
        if transform.source_upload_id:
            upload = transform.source_upload
            if upload.project_id in visible:
                chain.append({"upload": upload.pk, "title": upload.title})
            break
        source = transform.source_song
        if source is None or source.pk in seen or source.project_id not in visible:
            break
        seen.add(source.pk)
        chain.append({"song": source.pk, "title": source.display_title,
                      "variant": source.variant_label, "mode": source.transform.mode})
        transform = source.transform
    return chain


def sidecar(song: Song, visible: set[int]) -> dict:
    request = song.transform.parameters()
    for name, project_id in (("source_song", song.transform.source_song and song.transform.source_song.project_id),
                             ("source_upload", song.transform.source_upload and song.transform.source_upload.project_id)):
        if project_id not in visible:
            request[name] = None
    return {
        "id": song.pk,
        "title": song.display_title,
        "variant": song.variant_label,
        "project": song.project.name,
        "lyrics": song.lyrics,
        "tags": song.tags,
        "labels": song.labels,
        "status": song.status,
        "duration": song.duration,
        "audio_format": song.audio_format,
        "request": request,
        "made_by_service": {"style": song.api_style, "title": song.api_title, "lyrics": song.api_lyrics},
        "takes": {"keepers": song.keepers, "maybes": song.maybes, "rejects": song.rejects},
        "lineage": lineage(song, visible),
        "created_at": song.created_at.isoformat(),
        "finished_at": song.finished_at.isoformat() if song.finished_at else None,
    }


def write_zip(songs: list[Song], visible: set[int], numbered: bool = False):
    """A temporary file holding the zip, rewound; it spills to disk past 16 MiB.

    `visible`: the ids of the projects the person exporting may see (access.projects_for).
    `numbered`: file names start with the song's place (01-, 02-…), so a playlist sorts in order.
    """
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    width = len(str(len(songs)))
    with zipfile.ZipFile(out, "w") as archive:
        for place, song in enumerate(songs, start=1):
            stem = f"{song.pk}-{slugify(song.display_title) or 'song'}-{song.variant_label.lower()}"
            if numbered:
                stem = f"{place:0{max(width, 2)}d}-{stem}"
            data = json.dumps(sidecar(song, visible), indent=2, ensure_ascii=False, default=str)
            archive.writestr(f"{stem}.json", data, compress_type=zipfile.ZIP_DEFLATED)
            if song.timed_lyrics:
                archive.writestr(f"{stem}.lrc", song.lrc(), compress_type=zipfile.ZIP_DEFLATED)
            files = [song.audio] if song.is_playable else []
            if song.cover:
                files.append(song.cover)
            for stored in files:
                with archive.open(f"{stem}.{stored.name.rsplit('.', 1)[-1]}", "w") as entry:
                    for chunk in media.chunks(stored, size=1024 * 1024):
                        entry.write(chunk)
    out.seek(0)
    return out
