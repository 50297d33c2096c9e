"""Stored media, wherever STORAGES["default"] keeps it: this machine's disk or S3-compatible
object storage (riffweb/settings.py). Everything that reads or writes a stored file goes through
Django's storage API and these helpers, never a filesystem path, so that any web or worker
machine can serve what another one stored.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile

CHUNK = 64 * 1024


def _is_s3(storage: Storage) -> bool:
    return hasattr(storage, "bucket")  # storages.backends.s3.S3Storage, without importing boto3


def chunks(fieldfile: FieldFile, start: int = 0, length: int | None = None, size: int = CHUNK) -> Iterator[bytes]:
    """The stored bytes from `start`, `length` of them (all when None), a chunk at a time.

    From object storage this is one ranged GET read as it arrives: opening the file through
    the storage API would first copy the whole object to this machine.
    """
    if length == 0:
        return
    storage = fieldfile.storage
    if _is_s3(storage):
        last = "" if length is None else start + length - 1
        body = storage.bucket.Object(storage._normalize_name(fieldfile.name)).get(Range=f"bytes={start}-{last}")["Body"]
        try:
            yield from body.iter_chunks(size)
        finally:
            body.close()
        return
    with storage.open(fieldfile.name, "rb") as handle:
        handle.seek(start)
        while length is None or length > 0:
            chunk = handle.read(size if length is None else min(size, length))
            if not chunk:
                break
            if length is not None:
                length -= len(chunk)
            yield chunk


@contextmanager
def local_copy(fieldfile: FieldFile) -> Iterator[Path]:
    """A temporary file holding a copy of the stored file, for what needs a real path (PyAV);
    removed afterwards. Any FileField works: audio, previews, cover art, stems."""
    suffix = PurePosixPath(fieldfile.name).suffix
    with tempfile.NamedTemporaryFile(prefix="riffweb-", suffix=suffix) as tmp:
        for chunk in chunks(fieldfile, size=1024 * 1024):
            tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name)


def save_local(path: Path, name: str, storage: Storage) -> str:
    """Store a checked local file under `name` (or a free name near it); return the stored name."""
    with Path(path).open("rb") as handle:
        return storage.save(name, File(handle, name=PurePosixPath(name).name))


def signed_url(fieldfile: FieldFile, content_type: str, download_name: str | None) -> str:
    """A link to the object that works for RIFFWEB_S3_LINK_SECONDS, answering with our content
    type and, for a download, our file name; ranges (seeking) are the store's own."""
    disposition = f'attachment; filename="{download_name}"' if download_name else "inline"
    parameters = {
        "ResponseContentType": content_type,
        "ResponseContentDisposition": disposition,
        "ResponseCacheControl": "private, max-age=3600",
    }
    return fieldfile.storage.url(fieldfile.name, parameters=parameters, expire=settings.RIFFWEB_S3_LINK_SECONDS)
