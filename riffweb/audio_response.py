"""Audio files with HTTP Range support, so that browsers can seek; and songs' cover images.

Django's FileResponse always sends the whole file; Chromium only allows seeking in an
<audio> element when the server answers byte ranges with 206 Partial Content. The studio,
the teams' guest links and the upstream's upload links all answer through here, after their
own access check. When media is on object storage that browsers reach
(settings.RIFFWEB_MEDIA_REDIRECT), the answer is instead a redirect to a short-lived signed
link, and the store answers the ranges.
"""

import re

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from riffweb import media
from riffweb.audio import CONTENT_TYPES

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Return (first, last) inclusive, or None when the header is not one satisfiable range."""
    match = RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # a suffix range: the last N bytes
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


def _signed_redirect(fieldfile: FieldFile, content_type: str, download_name: str | None) -> HttpResponse:
    response = HttpResponseRedirect(media.signed_url(fieldfile, content_type, download_name))
    response["Cache-Control"] = "private, no-store"  # the link expires; ask again each time
    return response


def download_response(fieldfile: FieldFile, content_type: str, download_name: str) -> HttpResponse:
    """A whole file to save (a WAV, a zip of stems): from the store when browsers reach it."""
    if settings.RIFFWEB_MEDIA_REDIRECT:
        return _signed_redirect(fieldfile, content_type, download_name)
    return FileResponse(fieldfile.open("rb"), as_attachment=True, filename=download_name, content_type=content_type)


def audio_response(
    request: HttpRequest,
    fieldfile: FieldFile,
    audio_format: str,
    download_name: str | None,
    *,
    redirect: bool = True,
) -> HttpResponse:
    """`redirect=False` always streams: for a reader that is not a browser (the upstream)."""
    content_type = CONTENT_TYPES.get(audio_format, "application/octet-stream")
    if redirect and settings.RIFFWEB_MEDIA_REDIRECT:
        return _signed_redirect(fieldfile, content_type, download_name)
    size = fieldfile.size
    header = request.headers.get("Range", "")
    if header:
        byte_range = _parse_range(header, size)
        if byte_range is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        start, end = byte_range
        response = StreamingHttpResponse(
            media.chunks(fieldfile, start, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = StreamingHttpResponse(media.chunks(fieldfile, 0, size), content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    if download_name:
        response["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


def image_response(fieldfile: FieldFile) -> HttpResponse:
    """A cover image: always a JPEG riffweb encoded itself (riffweb/artwork.py), a few dozen KB."""
    with fieldfile.storage.open(fieldfile.name, "rb") as handle:
        response = HttpResponse(handle.read(), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def listen_only_response(request: HttpRequest, song) -> HttpResponse:
    """What a listen-only guest link plays: the song's 96 kbps preview, never the master file."""
    return audio_response(request, song.ensure_preview(), "mp3", None)
