"""The pipeline with a real django-q2 cluster (a subprocess) and an upstream over loopback HTTP."""

import pytest

from riffweb import audio
from riffweb.studio.models import Song
from riffweb.upstream.tasks import enqueue_transform
from tests.cluster import running_qcluster, wait_for
from tests.conftest import make_request
from tests.upstream.stub_upstream import StubUpstream

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST = {"RIFFWEB_POLL_FIRST": "0.3", "RIFFWEB_POLL_MIN": "0.3", "RIFFWEB_POLL_MAX": "1"}


def finished(transform):
    return all(s.is_finished for s in transform.songs.all())


def test_a_request_reaches_done_with_stored_audio_through_the_cluster(project, owner):
    stub = StubUpstream(render_delay=1.0).start()
    try:
        with running_qcluster(stub.url, FAST) as cluster:
            transform = make_request(project, owner)
            enqueue_transform(transform.pk)
            wait_for(lambda: finished(transform), 40, message=f"songs to finish\n{cluster.log}")
        for song in transform.songs.all():
            assert song.status == Song.Status.DONE, (song.error, song.error_detail)
            duration, _ = audio.probe(song.audio.path)
            assert duration == pytest.approx(song.duration, abs=0.01)
        assert stub.calls["create"] == 1
        assert stub.calls["audio"] == 2
    finally:
        stub.stop()
