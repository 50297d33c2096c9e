"""Background work for uploads given as a link: fetch through the SSRF-safe fetcher, check, store.

The web request never fetches a URL a musician typed; this django-q2 task does, through
riffweb.upstream.fetch (http(s) only, public addresses only, redirects re-checked, a byte cap
and a deadline), then hands the stored copy to the upstream pipeline like a file upload.
"""

import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File

from riffweb import audio, queue
from riffweb.studio.models import Upload
from riffweb.upstream.fetch import FetchError, fetch_to_file

log = logging.getLogger(__name__)
FETCH_DEADLINE = 45.0  # under the cluster's task timeout (Q_CLUSTER["timeout"], 60 s)


def enqueue_fetch(upload_id: int) -> None:
    if not queue.fetch_link(upload_id):
        Upload.objects.filter(pk=upload_id).fail("We could not start fetching the link. Try again in a while.")


def fetch_upload(upload_id: int) -> str:
    """Fetch an upload's link once; safe to run twice (only a pending row without audio is fetched)."""
    upload = Upload.objects.filter(pk=upload_id, status=Upload.Status.PENDING, audio="").first()
    if upload is None or not upload.source_url:
        return "nothing to fetch"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fetched"
        try:
            fetch_to_file(upload.source_url, path, max_bytes=settings.RIFFWEB_UPLOAD_MAX_BYTES,
                          deadline=FETCH_DEADLINE)
            checked = audio.check(path, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
        except FetchError as exc:
            upload.fail(f"We could not fetch that link: {exc}")
            return "fetch failed"
        except audio.AudioError as exc:
            upload.fail(f"We did not take the linked file. {exc}")
            return "refused"
        with path.open("rb") as handle:
            upload.audio.save(f"upload.{checked.format}", File(handle), save=False)
    if not upload.store_fetched(upload.audio.name, checked.format, checked.duration, checked.peaks):
        upload.audio.storage.delete(upload.audio.name)
        return "fetched twice"
    queue.send_upload(upload_id)
    return "fetched"
