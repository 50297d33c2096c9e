"""Refuse an upload larger than RIFFWEB_UPLOAD_MAX_BYTES before it is stored, not after.

Django's parser spools a large file to a temporary file and only then lets the form look at
its size: a 1 GiB body was written to disk to be told it was too big. This handler runs
before Django's own. A body whose Content-Length is past the cap is not read at all; a file
that grows past the cap anyway (a body whose length says less) stops being stored there.
Either way the form gets a stand-in that carries only the size, so the upload form answers
with its usual "the file is … MB; the limit is 50 MB".
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# The upload form's file field (riffweb/studio/modes.py, UploadForm.file).
FILE_FIELD = "file"
# Room for the form's other fields and the multipart framing around the file.
FORM_ALLOWANCE = 64 * 1024


class OversizedUpload(UploadedFile):
    """A file we refused to store: only its size is known."""

    def __init__(self, size: int):
        super().__init__(file=None, name="upload", size=size)

    def close(self) -> None:
        pass


class UploadCapHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.RIFFWEB_UPLOAD_MAX_BYTES + FORM_ALLOWANCE:
            # Returning a result ends parsing here, before the first byte of the body is read.
            return QueryDict(encoding=encoding), MultiValueDict({FILE_FIELD: [OversizedUpload(content_length)]})
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        # None keeps the chunk from the handlers after this one: nothing past the cap is stored.
        # What is left to read is under FORM_ALLOWANCE, since the declared length passed.
        return None if start + len(raw_data) > settings.RIFFWEB_UPLOAD_MAX_BYTES else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        return OversizedUpload(file_size) if file_size > settings.RIFFWEB_UPLOAD_MAX_BYTES else None
