"""The SSRF-safe fetcher: one test per blocked case, against a loopback server."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from riffweb.upstream import fetch
from riffweb.upstream.fetch import FetchError, fetch_to_file

BODY = b"RIFF" + b"x" * 5000
DRIP_BYTES = 100
dripped: list[int] = []  # bytes the /drip handler sent before the client went away
authorizations: list[str] = []  # the Authorization header each /seen request carried
drip_stopped = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.split("to=", 1)[1])
            self.end_headers()
            return
        if self.path == "/missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/seen":
            authorizations.append(self.headers.get("Authorization", ""))
        if self.path == "/big":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the cap must hold while streaming
            for _ in range(64):
                self.wfile.write(b"y" * 65536)
            return
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"z" * 1000)
                self.wfile.flush()
                time.sleep(0.05)
            return
        if self.path == "/drip":  # one byte every 0.1 s: each read sees data, no timeout fires
            self.send_response(200)
            self.send_header("Content-Length", str(DRIP_BYTES))
            self.end_headers()
            sent = 0
            try:
                while sent < DRIP_BYTES:
                    self.wfile.write(b"d")
                    self.wfile.flush()
                    sent += 1
                    time.sleep(0.1)
            except OSError:
                pass
            dripped.append(sent)
            drip_stopped.set()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def public_names(monkeypatch):
    """Let names resolve as in the wild: "public.test" is our loopback server treated as public."""
    real = socket.getaddrinfo
    table = {"public.test": "127.0.0.1", "internal.test": "10.1.2.3", "meta.test": "169.254.169.254"}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return real(table[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    allowed = fetch.address_allowed
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(
        fetch, "address_allowed", lambda a, allow_private=False: a == "127.0.0.1" or allowed(a, allow_private)
    )


def url(server, path="/ok", host="127.0.0.1"):
    return f"http://{host}:{server.server_port}{path}"


def test_it_fetches_a_public_address_into_place(server, public_names, tmp_path):
    size, _ = fetch_to_file(url(server, host="public.test"), tmp_path / "a.wav", max_bytes=10**6)
    assert size == len(BODY) and (tmp_path / "a.wav").read_bytes() == BODY


def test_loopback_is_refused(server, tmp_path):
    with pytest.raises(FetchError, match="private network"):
        fetch_to_file(url(server), tmp_path / "a.wav", max_bytes=10**6)
    assert list(tmp_path.iterdir()) == []


def test_loopback_is_allowed_when_the_upstream_is_local(server, tmp_path):
    fetch_to_file(url(server), tmp_path / "a.wav", max_bytes=10**6, allow_private=True)
    assert (tmp_path / "a.wav").exists()


@pytest.mark.parametrize("host", ["internal.test", "meta.test"])
def test_names_resolving_to_private_or_link_local_addresses_are_refused(server, public_names, tmp_path, host):
    with pytest.raises(FetchError, match="private network"):
        fetch_to_file(url(server, host=host), tmp_path / "a.wav", max_bytes=10**6)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
     "64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:7f00:1::1", "ff02::1", "::"],
)
def test_addresses_that_are_not_public_are_refused(address):
    assert not fetch.address_allowed(address)


def test_public_addresses_and_public_nat64_pass():
    assert fetch.address_allowed("93.184.216.34")
    assert fetch.address_allowed("2606:4700::1111")
    assert fetch.address_allowed("64:ff9b::5db8:d822")  # NAT64 of 93.184.216.34


def test_link_local_stays_refused_even_for_a_local_upstream():
    assert not fetch.address_allowed("169.254.169.254", allow_private=True)
    assert fetch.address_allowed("10.0.0.1", allow_private=True)


@pytest.mark.parametrize("bad", ["ftp://public.test/a.mp3", "file:///etc/passwd", "gopher://x/", "http://user:pw@public.test/"])
def test_other_schemes_and_credentials_are_refused(bad, tmp_path, public_names):
    with pytest.raises(FetchError):
        fetch_to_file(bad, tmp_path / "a.wav", max_bytes=10**6)


def test_a_redirect_to_a_private_address_is_refused(server, public_names, tmp_path):
    target = url(server, host="127.0.0.2")
    with pytest.raises(FetchError, match="private network"):
        fetch_to_file(url(server, f"/redirect?to={target}", host="public.test"), tmp_path / "a.wav", max_bytes=10**6)


def test_a_redirect_to_a_public_address_is_followed(server, public_names, tmp_path):
    target = url(server, host="public.test")
    fetch_to_file(url(server, f"/redirect?to={target}", host="public.test"), tmp_path / "a.wav", max_bytes=10**6)
    assert (tmp_path / "a.wav").read_bytes() == BODY


def test_headers_go_to_the_first_origin_only_never_where_it_redirects_elsewhere(server, public_names, tmp_path):
    token = {"Authorization": "Bearer upstream-token"}
    authorizations.clear()
    fetch_to_file(url(server, "/seen", host="public.test"), tmp_path / "a", max_bytes=10**6, headers=token)
    same = url(server, "/seen", host="public.test")
    fetch_to_file(url(server, f"/redirect?to={same}", host="public.test"), tmp_path / "b", max_bytes=10**6,
                  headers=token)
    elsewhere = url(server, "/seen", host="127.0.0.1")
    fetch_to_file(url(server, f"/redirect?to={elsewhere}", host="public.test"), tmp_path / "c", max_bytes=10**6,
                  headers=token)
    assert authorizations == ["Bearer upstream-token", "Bearer upstream-token", ""]


def test_an_answer_other_than_200_carries_its_status(server, public_names, tmp_path):
    with pytest.raises(FetchError, match="HTTP 404") as failed:
        fetch_to_file(url(server, "/missing", host="public.test"), tmp_path / "a", max_bytes=10**6)
    assert failed.value.status == 404


def test_the_byte_cap_holds_while_streaming_and_leaves_nothing(server, public_names, tmp_path):
    with pytest.raises(FetchError, match="too large"):
        fetch_to_file(url(server, "/big", host="public.test"), tmp_path / "a.wav", max_bytes=1_000_000)
    assert list(tmp_path.iterdir()) == []


def test_the_deadline_holds_and_leaves_nothing(server, public_names, tmp_path):
    with pytest.raises(FetchError, match="too long"):
        fetch_to_file(url(server, "/slow", host="public.test"), tmp_path / "a.wav", max_bytes=10**6, deadline=0.5)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_drips_is_cut_off_at_the_deadline(server, public_names, tmp_path):
    drip_stopped.clear()
    with pytest.raises(FetchError, match="The download took too long."):
        fetch_to_file(url(server, "/drip", host="public.test"), tmp_path / "a.wav", max_bytes=10**6, deadline=1.0)
    assert list(tmp_path.iterdir()) == []
    assert drip_stopped.wait(30)
    assert dripped[-1] < DRIP_BYTES  # we hung up while it was still dripping
