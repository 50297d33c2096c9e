"""Fixtures for the upstream pipeline: a scripted stub upstream and settings pointing at it."""

import pytest

from tests.upstream.stub_upstream import StubUpstream


@pytest.fixture
def stub():
    server = StubUpstream(render_delay=0.3).start()
    yield server
    server.stop()


@pytest.fixture
def upstream_at(settings):
    """Point the pipeline at a server; inline downloads so one DB connection sees everything."""

    def point(url: str, dialect: str = "riffusion", **extra):
        settings.RIFFWEB_UPSTREAM_URL = url
        settings.RIFFWEB_UPSTREAM_DIALECT = dialect
        settings.RIFFWEB_DOWNLOAD_THREADS = 0
        settings.RIFFWEB_POLL_FIRST = 0.1
        settings.RIFFWEB_POLL_MIN = 0.1
        settings.RIFFWEB_POLL_MAX = 0.5
        for key, value in extra.items():
            setattr(settings, key, value)
        from riffweb.upstream.tracker import upstream_is_local

        upstream_is_local.cache_clear()

    return point


@pytest.fixture(autouse=True)
def _no_queue(request, monkeypatch):
    """Unit tests run the steps themselves; nothing is sent to a broker (clusters are real)."""
    from riffweb import queue

    sent = []
    if request.node.get_closest_marker("integration"):
        return sent
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, **kwargs: sent.append((func, args)) or True)
    return sent
