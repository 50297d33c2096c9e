"""The Content-Security-Policy names the very origin the signed links point at."""

from urllib.parse import urlsplit

import pytest
from storages.backends.s3 import S3Storage

from riffweb.settings import s3_storage


@pytest.mark.parametrize(
    ("bucket", "endpoint"),
    [("riffweb-media", ""), ("media.example.com", ""), ("riffweb-media", "https://objects.example.net:9000")],
)
def test_the_policys_origin_is_the_signed_links_origin(bucket, endpoint):
    storage, origin = s3_storage(bucket, "eu-west-1", endpoint, "key", "secret", link_seconds=300)
    link = urlsplit(S3Storage(**storage["OPTIONS"]).url("songs/2026/11/1-a.mp3"))
    assert f"{link.scheme}://{link.netloc}" == origin
