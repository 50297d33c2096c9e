"""Audio files with HTTP Range support, so that browsers can seek; and songs' cover images.

Django's FileResponse always sends the whole file; Chromium only allows seeking in an
<audio> element when the server answers byte ranges with 206 Partial Content. The studio,
the teams' guest links and the upstream's upload links all answer through here.
"""

import re

from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from riffweb.audio import CONTENT_TYPES

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


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


def _stream(fieldfile: FieldFile, start: int, length: int):
    with fieldfile.storage.open(fieldfile.name, "rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def audio_response(
    request: HttpRequest, fieldfile: FieldFile, audio_format: str, download_name: str | None
) -> HttpResponse:
    size = fieldfile.size
    content_type = CONTENT_TYPES.get(audio_format, "application/octet-stream")
    header = request.headers.get("Range", "")
    if header:
        byte_range = _parse_range(header, size)
        if byte_range is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        start, end = byte_range
        response = StreamingHttpResponse(
            _stream(fieldfile, start, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = StreamingHttpResponse(_stream(fieldfile, 0, size), content_type=content_type)
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
