"""Sending a musician's upload to the upstream (see tasks.enqueue_upload)."""


def send_upload(upload_id: int) -> str:
    raise NotImplementedError("uploads are not wired to the upstream yet")
