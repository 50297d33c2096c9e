"""One log line per request, with a request id that follows the request's tasks into the worker."""

import json
import logging
import re
import uuid

import pytest
from django.http import HttpResponseServerError
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils.log import log_response

from riffweb import logs
from riffweb.studio.models import Transform
from tests.cluster import running_engine, running_qcluster, wait_for
from tests.conftest import PASSWORD

API_KEY = "sk-live-test-api-key-never-logged-0123456789"


class Lines(logging.Handler):
    """The lines riffweb's console handler writes, in the configured format."""

    def __init__(self, fmt: str):
        super().__init__()
        self.lines: list[str] = []
        handler = logs.config(fmt, "INFO")["formatters"][fmt]
        self.setFormatter(handler["()"]() if "()" in handler else logging.Formatter(handler["format"]))
        self.addFilter(logs.RequestFilter())

    def emit(self, record):
        self.lines.append(self.format(record))

    def about(self, request_id: str) -> list[str]:
        return [line for line in self.lines if request_id in line]


@pytest.fixture
def plain_log():
    handler = Lines("plain")
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def test_every_request_gets_an_id_in_its_one_log_line_and_its_response(db, plain_log):
    response = Client().get("/login/")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert plain_log.about(request_id) == [
        line for line in plain_log.lines if "riffweb.request" in line
    ]
    [line] = plain_log.about(request_id)
    assert line.endswith(f"INFO riffweb.request [{request_id}]: GET /login/ 200 " + line.rsplit(" ", 1)[1])


def test_a_proxys_request_id_is_kept_only_when_it_is_safe_to_print(db, plain_log):
    client = Client()
    assert client.get("/login/", HTTP_X_REQUEST_ID="lb-4f9c2a7e-0001")["X-Request-ID"] == "lb-4f9c2a7e-0001"
    for unsafe in ("short", "a" * 65, "ok-looking-id\nINFO forged line", "id with spaces", '"}{"admin": true'):
        echoed = client.get("/login/", HTTP_X_REQUEST_ID=unsafe)["X-Request-ID"]
        assert echoed != unsafe and re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert not any("forged" in line or "admin" in line for line in plain_log.lines)


def test_a_path_cannot_forge_a_log_line(db, plain_log):
    response = Client().get("/nowhere%0A2026-01-01 INFO riffweb.request [forged]: GET / 200/")
    assert response.status_code == 404
    [line] = plain_log.about(response["X-Request-ID"])
    assert "\n" not in line and "GET /nowhere\\n2026-01-01" in line


def test_a_guest_links_token_never_reaches_the_log(db, plain_log):
    token = "guest-token-" + uuid.uuid4().hex
    response = Client().get(f"/listen/{token}/")
    assert response.status_code == 404
    [line] = plain_log.about(response["X-Request-ID"])
    assert "GET /listen/…/ 404" in line and token not in "\n".join(plain_log.lines)


def test_a_playlist_guest_links_token_never_reaches_the_log(db, plain_log):
    token = "guest-token-" + uuid.uuid4().hex
    response = Client().get(f"/listen/playlist/{token}/songs/1/audio/")
    assert response.status_code == 404
    [line] = plain_log.about(response["X-Request-ID"])
    assert "GET /listen/playlist/…/songs/1/audio/ 404" in line and token not in "\n".join(plain_log.lines)


def test_a_server_error_on_a_guest_link_logs_its_path_without_the_token(plain_log):
    token = "guest-token-" + uuid.uuid4().hex
    request = RequestFactory().get(f"/listen/{token}/")
    request.resolver_match = resolve(request.path)
    log_response("%s: %s", "Internal Server Error", request.path, request=request, response=HttpResponseServerError(),
                 logger=logging.getLogger("django.request"))
    assert plain_log.lines[-1].endswith("django.request [-]: Internal Server Error: /listen/…/")


def test_json_lines_carry_the_request_and_its_fields(db, owner):
    handler = Lines("json")
    logging.getLogger().addHandler(handler)
    try:
        client = Client()
        client.force_login(owner)
        response = client.get("/library/")
    finally:
        logging.getLogger().removeHandler(handler)
    [record] = [json.loads(line) for line in handler.about(response["X-Request-ID"])]
    assert record["request_id"] == response["X-Request-ID"] and record["logger"] == "riffweb.request"
    assert (record["method"], record["path"], record["status"]) == ("GET", "/library/", 200)
    assert record["duration_ms"] >= 0 and record["level"] == "INFO"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_request_id_follows_the_request_into_the_workers_log_and_no_secret_is_logged(
    settings, project, owner, plain_log
):
    settings.RIFFWEB_UPSTREAM_TOKEN = API_KEY
    request_id = "trace-" + uuid.uuid4().hex[:16]
    with running_engine(render_delay=0.2) as engine, \
            running_qcluster(engine.url, {"RIFFWEB_UPSTREAM_TOKEN": API_KEY, "LOG_LEVEL": "DEBUG"}) as cluster:
        client = Client()
        assert client.post("/login/", {"username": owner.username, "password": PASSWORD}).status_code == 302
        response = client.post(reverse("studio:professional_create", args=[project.pk]), {
            "title": "Neon rain", "lyrics": "[Verse]\nCity lights", "tags": "synthwave", "model": "FUZZ-1.1",
            "idempotency_key": str(uuid.uuid4()),
        }, HTTP_X_REQUEST_ID=request_id)
        assert response.status_code == 302 and response["X-Request-ID"] == request_id
        transform = Transform.objects.get()
        submitted = wait_for(
            lambda: [line for line in cluster.lines if f"[{request_id}]" in line and "submitted as" in line],
            60, message=f"the worker's line about the submission\n{cluster.log}",
        )
    assert f"transform {transform.pk}: submitted as" in submitted[0]
    web_lines = "\n".join(plain_log.about(request_id))
    assert f"riffweb.request [{request_id}]: POST /projects/{project.pk}/generate/ 302" in web_lines
    everything = "\n".join(cluster.lines + plain_log.lines)
    assert API_KEY not in everything and PASSWORD not in everything
