"""An S3-compatible server over loopback HTTP (moto's standalone server, from the test lock file),
started once per test run on a free port, and a fresh bucket per test that wants one. The
fixtures are registered in tests/conftest.py, so any test folder can put its media in a bucket."""

import subprocess
import sys
import uuid

import boto3
import pytest

from riffweb.settings import s3_storage
from tests.cluster import free_port, listening

KEYS = {"access_key": "riffweb-test", "secret_key": "riffweb-test-secret"}
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    if not listening(port, process, 30):
        process.kill()
        raise RuntimeError("moto's S3 server did not start")
    yield url
    process.terminate()
    process.wait(10)


class Bucket:
    """A bucket on the test server, as riffweb's settings and environment name it."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.name = f"riffweb-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id=KEYS["access_key"], aws_secret_access_key=KEYS["secret_key"],
        )
        self.client.create_bucket(Bucket=self.name)

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def storage(self, link_seconds: int = 300) -> dict:
        return s3_storage(self.name, REGION, self.endpoint, link_seconds=link_seconds, **KEYS)[0]

    def env(self, browser_access: bool = True) -> dict[str, str]:
        return {
            "RIFFWEB_S3_BUCKET": self.name, "RIFFWEB_S3_ENDPOINT_URL": self.endpoint,
            "RIFFWEB_S3_REGION": REGION, "RIFFWEB_S3_ACCESS_KEY": KEYS["access_key"],
            "RIFFWEB_S3_SECRET_KEY": KEYS["secret_key"],
            "RIFFWEB_S3_BROWSER_ACCESS": "1" if browser_access else "0",
        }


@pytest.fixture
def bucket(s3_server) -> Bucket:
    return Bucket(s3_server)


@pytest.fixture
def s3_media(settings, bucket) -> Bucket:
    """Media in the bucket for this test, browsers sent there by signed links."""
    settings.STORAGES = {**settings.STORAGES, "default": bucket.storage()}
    settings.RIFFWEB_MEDIA_REDIRECT = True
    return bucket
