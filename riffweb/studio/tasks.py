"""Background work that fetches audio into our storage: uploads given as a link, and a finished
song's WAV or stems when a musician asks. Fetch through the SSRF-safe fetcher, check, store.
Also the arranger's render, which makes audio here from the project's own songs (no upstream call).

The web request never fetches a URL a musician typed; this django-q2 task does, through
riffweb.upstream.fetch (http(s) only, public addresses only, redirects re-checked, a byte cap
and a deadline), then hands the stored copy to the upstream pipeline like a file upload.
"""

import logging
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from riffweb import audio, media, mixing, queue
from riffweb.studio.models import Failure, Song, SongFile, Transform, Upload
from riffweb.upstream import client as upstream
from riffweb.upstream.fetch import FetchError, fetch_to_file
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.tracker import upstream_is_local

log = logging.getLogger(__name__)
FETCH_DEADLINE = 45.0  # under the cluster's task timeout (Q_CLUSTER["timeout"], 60 s)
RENDER_LEASE = timedelta(seconds=90)  # past the cluster's task timeout: a live render keeps its claim
MAX_RENDER_ATTEMPTS = 3  # a mix that crashed or timed out its worker this often ends instead of looping


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


def fetch_song_file(file_id: int) -> str:
    """Fetch a song's WAV, or its stems zipped, from the music service and keep it.

    Safe to run twice (a claim with a lease). Everything the service sends comes through the
    SSRF-safe fetcher with the audio byte cap and is audio-checked before it is kept.
    """
    wanted = SongFile.objects.claim(file_id, timezone.now())
    if wanted is None:
        return "not due"
    song = wanted.song
    service = upstream.configured()
    limits = dict(max_bytes=settings.RIFFWEB_AUDIO_MAX_BYTES, deadline=FETCH_DEADLINE,
                  allow_private=upstream_is_local())
    with tempfile.TemporaryDirectory() as folder:
        made = Path(folder) / "made"
        try:
            if wanted.kind == SongFile.Kind.WAV:
                service.download(song.upstream_id, "wav", made, user_id=song.upstream_account, **limits)
                audio.check(made, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS, formats={"wav"})
            else:
                _zip_stems(service.stems(song.upstream_id, user_id=song.upstream_account), Path(folder), made, limits)
        except (upstream.UpstreamError, FetchError, audio.AudioError) as exc:
            if isinstance(exc, upstream.UpstreamAuthError):
                UpstreamState.needs_attention(str(exc), exc.detail, code=exc.status)
            wanted.fail(song_file_failure(exc), getattr(exc, "detail", "") or str(exc))
            return "failed"
        with made.open("rb") as handle:
            wanted.file.save(f"{song.pk}-{wanted.kind}.{'zip' if wanted.kind == SongFile.Kind.STEMS else 'wav'}",
                             File(handle), save=False)
        size = made.stat().st_size
    if not wanted.store(wanted.file.name, size):
        wanted.file.storage.delete(wanted.file.name)
        return "lost claim"
    return "ready"


def _zip_stems(stems: list[tuple[str, str]], folder: Path, dest: Path, limits: dict) -> None:
    """Each stem fetched and checked in turn, then written into the zip from disk (stored,
    not deflated: audio does not shrink), so memory stays flat whatever their length."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as bundle:
        for name, url in stems:
            part = folder / f"stem-{name}"
            fetch_to_file(url, part, **limits)
            checked = audio.check(part, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
            bundle.write(part, f"{name}.{checked.format}")
            part.unlink()


def song_file_failure(exc: Exception) -> str:
    """What the musician reads when a WAV or stems could not be fetched; they may ask again."""
    if isinstance(exc, upstream.UpstreamBusy):
        return "The music service is busy right now. Ask again in a minute."
    if isinstance(exc, upstream.UpstreamAuthError):
        return "The music service account needs attention; our team has been told. Ask again later."
    if isinstance(exc, upstream.UpstreamUnavailable):
        return "The music service is failing right now. Ask again in a while."
    if isinstance(exc, upstream.UpstreamInvalid):
        return f"The music service would not give this file: {exc.reason}"
    if isinstance(exc, audio.AudioError):
        return f"The music service sent a file we did not take. {exc}"
    return f"We could not fetch the file: {exc}"


def render_arrangement(transform_id: int) -> str:
    """Mix an arrangement's regions (as its render kept them) into the render's song.

    Safe to run twice: a claim with a lease, and the song is stored only while the claim holds.
    Each region's song is decoded when its turn comes, through the same admission and length
    cap as any audio, so memory follows one song plus the mix, which the arranger caps.
    """
    render = Transform.objects.claim_render(transform_id, timezone.now(), RENDER_LEASE)
    if render is None:
        return "not due"
    if render.attempts > MAX_RENDER_ATTEMPTS:
        render.fail_submission(Failure.MIX, "the mix stopped its worker on every attempt")
        return "failed"
    songs = Song.objects.in_bulk([region["song"] for region in render.regions])
    try:
        samples = mixing.mix(_parts(render.regions, songs))
        data = audio.encode_mp3(samples, mixing.RATE)
        checked = audio.check(data, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
    except (audio.AudioError, _GoneSource, OSError) as exc:  # OSError: a source's file gone from storage
        reason = "" if isinstance(exc, OSError) else str(exc)
        render.fail_submission(Failure.MIX, repr(exc), reason=reason)
        return "failed"
    song = render.songs.get(variant=0)
    song.audio.save(f"{song.pk}-arrangement.mp3", ContentFile(data), save=False)
    if not render.store_render(song.audio.name, "mp3", checked.duration, checked.peaks):
        song.audio.storage.delete(song.audio.name)
        return "lost claim"
    render.offer_mix(default_storage.save(f"uploads/mix-{song.pk}.mp3", ContentFile(data)), checked.duration,
                     checked.peaks)
    return "rendered"


class _GoneSource(Exception):
    """A region's song lost its audio after the render was asked for."""


def _parts(regions: list[dict], songs: dict):
    for region in regions:
        song = songs.get(region["song"])
        if song is None or not song.is_playable:
            raise _GoneSource(f"“{region['title']}” has no audio any more")
        with media.local_copy(song.audio) as path:
            decoded = audio.decode(path, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
        yield mixing.Part(decoded.samples, decoded.sample_rate, region["start"], region["end"], region["crossfade"])
