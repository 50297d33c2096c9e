"""Uploads: dialect B sends bytes and waits for processing; dialect A hands over a signed link."""

import time

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.urls import reverse

from riffweb.studio.models import Upload
from riffweb.upstream import tracker
from riffweb.upstream.uploads import LINK_SALT, NO_PUBLIC_URL, send_upload, signed_link
from tests.cluster import running_engine
from tests.conftest import tone_wav


@pytest.fixture
def upload(project, owner):
    item = Upload(project=project, created_by=owner, title="Demo take", audio_format="wav")
    item.audio.save("take.wav", ContentFile(tone_wav(2.0)), save=False)
    item.save()
    return item


def pump_until_settled(upload, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        upload.refresh_from_db()
        if upload.status not in {Upload.Status.PENDING, Upload.Status.PROCESSING}:
            return upload
        tracker.run_pump(seconds=0.3)
    raise AssertionError((upload.status, upload.error, upload.error_detail))


@pytest.mark.django_db
def test_dialect_b_sends_the_bytes_and_waits_until_processed(upstream_at, upload):
    with running_engine(render_delay=1.0) as engine:
        upstream_at(engine.url, dialect="useapi")
        assert send_upload(upload.pk) == "pending"
        upload.refresh_from_db()
        assert upload.status == Upload.Status.PROCESSING and ":" in upload.upstream_id
        assert pump_until_settled(upload).status == Upload.Status.READY
        assert send_upload(upload.pk) == "not due"
        assert engine.stats()["counts"]["upload"] >= 2


@pytest.mark.django_db
def test_dialect_a_without_a_public_url_fails_with_a_clear_message(stub, upstream_at, upload, settings):
    upstream_at(stub.url, RIFFWEB_PUBLIC_URL="")
    assert send_upload(upload.pk) == "failed"
    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert upload.error == NO_PUBLIC_URL and "RIFFWEB_PUBLIC_URL" in upload.error


@pytest.mark.django_db(transaction=True)
def test_dialect_a_hands_over_a_signed_link_the_upstream_can_fetch(live_server, upstream_at, upload):
    with running_engine(render_delay=0.2, trusted_url_prefixes=(live_server.url,)) as engine:
        upstream_at(engine.url, RIFFWEB_PUBLIC_URL=live_server.url)
        assert send_upload(upload.pk) == "ready", Upload.objects.get(pk=upload.pk).error_detail
        upload.refresh_from_db()
        assert upload.status == Upload.Status.READY and upload.upstream_id


@pytest.mark.django_db
def test_the_signed_link_serves_our_copy_and_refuses_forgeries(client, upload, settings):
    settings.RIFFWEB_PUBLIC_URL = "http://testserver"
    response = client.get(signed_link(upload))
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    forged = signing.dumps(upload.pk, salt="something-else")
    assert client.get(reverse("upstream:upload_file", args=[forged])).status_code == 404
    assert client.get(reverse("upstream:upload_file", args=["not-a-token"])).status_code == 404
    assert signing.loads(signed_link(upload).rsplit("/", 2)[1], salt=LINK_SALT) == upload.pk
