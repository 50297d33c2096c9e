"""`/healthz` tells a load balancer whether this process can reach its database, broker and storage."""

import json
import os
import socket
import subprocess
import sys

from django.test import Client

from tests.cluster import ROOT

ALL_OK = {"database": "ok", "broker": "ok", "storage": "ok"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_answers_ok_for_every_part_to_anyone_without_logging_in(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == ALL_OK
    assert "no-cache" in response["Cache-Control"]


def test_a_load_balancer_may_ask_with_head_and_as_often_as_it_likes(db):
    client = Client()
    assert client.head("/healthz").status_code == 200
    assert {client.get("/healthz").status_code for _ in range(30)} == {200}  # the log-in throttle is not involved


def test_it_answers_over_plain_http_when_the_site_redirects_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/login/").status_code == 301
    assert Client().get("/healthz").status_code == 200  # the proxy asks over HTTP


def test_a_broker_that_does_not_answer_makes_it_503_without_saying_where_it_is(db, settings):
    port = closed_port()
    settings.REDIS_URL = f"redis://:broker-password@127.0.0.1:{port}/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {**ALL_OK, "broker": "unavailable"}
    assert str(port) not in response.content.decode() and "password" not in response.content.decode()


def test_a_database_that_does_not_answer_makes_it_503(tmp_path):
    """Another process, since this one's database connection is the test's own."""
    port = closed_port()
    env = {**os.environ, "DATABASE_URL": f"postgres://riffweb:db-password@127.0.0.1:{port}/riffweb",
           "REDIS_URL": "", "MEDIA_ROOT": str(tmp_path)}
    script = (
        "import django, json; django.setup(); "
        "from django.test import Client; from django.test.utils import setup_test_environment; "
        "setup_test_environment(); r = Client().get('/healthz'); "
        "print(json.dumps({'status': r.status_code, 'body': r.content.decode()}))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["status"] == 503
    assert json.loads(answer["body"]) == {"database": "unavailable", "broker": "unavailable", "storage": "ok"}
    assert "db-password" not in answer["body"] and "db-password" not in done.stderr
