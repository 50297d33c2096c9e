"""Fetch a URL into a file without letting the URL reach our own network.

Used for finished audio from the upstream and for URLs musicians type. Only http(s); every
address a name resolves to must be public (no loopback, private, link-local, multicast,
reserved, unspecified, or public-looking wrappers of those such as NAT64 and 6to4), checked
before connecting *and* on the connected socket, so DNS rebinding gains nothing; each
redirect is checked again; a byte cap and a wall-clock deadline; the body streams to a
temporary file that is renamed into place only when complete. Loopback and private
addresses are allowed only when the caller says so (the configured upstream is local).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0  # one read with nothing arriving; the deadline bounds the whole download


class FetchError(Exception):
    """The URL could not or must not be fetched. The message can be shown to a musician;
    `status` is the HTTP status when the address answered with one other than 200."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    packed = ip.packed
    if ip in ipaddress.IPv6Network("64:ff9b::/96") or ip in ipaddress.IPv6Network("64:ff9b:1::/48"):
        return ipaddress.IPv4Address(packed[-4:])
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in ipaddress.IPv6Network("::/96"):  # deprecated IPv4-compatible addresses
        return ipaddress.IPv4Address(packed[-4:])
    return None


def address_allowed(address: str, allow_private: bool = False) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            return address_allowed(str(inner), allow_private)
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False
    if ip.is_loopback or ip.is_private or ip.is_link_local or not ip.is_global:
        return allow_private and (ip.is_loopback or ip.is_private) and not ip.is_link_local
    return True


def host_is_local(host: str) -> bool:
    """True when every address of host is loopback or private (a local upstream)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        not address_allowed(a) and address_allowed(a, allow_private=True) for a in addresses
    )


def _check_host(host: str, port: int, allow_private: bool) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise FetchError("That address could not be found.") from None
    if not infos:
        raise FetchError("That address could not be found.")
    for info in infos:
        if not address_allowed(info[4][0], allow_private):
            raise FetchError("That address points into a private network; only public addresses are allowed.")


def _check_socket(sock, allow_private: bool) -> None:
    peer = sock.getpeername()[0]
    if not address_allowed(peer, allow_private):
        sock.close()
        raise FetchError("That address points into a private network; only public addresses are allowed.")


def _adapter(allow_private: bool) -> HTTPAdapter:
    """An adapter whose connections check the address they actually connected to."""

    class CheckedHTTP(HTTPConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            _check_socket(sock, allow_private)
            return sock

    class CheckedHTTPS(HTTPSConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            _check_socket(sock, allow_private)
            return sock

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = CheckedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPS

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    return Adapter(max_retries=0)


def fetch_to_file(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    deadline: float = 60.0,
    allow_private: bool = False,
    headers: dict | None = None,
) -> tuple[int, str]:
    """Download url into dest (renamed into place when complete); return (bytes, content type).

    `headers` (a bearer token) go to url's own origin only, never to where it redirects
    elsewhere. Raises FetchError with a message a musician can read.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: we check the real peer
    adapter = _adapter(allow_private)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    origin = urlsplit(url)[:2]
    try:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise FetchError("Only http and https addresses can be fetched.")
            if parts.username or parts.password:
                raise FetchError("Addresses with a user name or password are not allowed.")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            _check_host(parts.hostname, port, allow_private)
            remaining = deadline - (time.monotonic() - started)
            if remaining <= 0:
                raise FetchError("The download took too long.")
            try:
                response = session.get(
                    url, stream=True, allow_redirects=False, headers=(headers or {}) if parts[:2] == origin else {},
                    timeout=(min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining)),
                )
            except FetchError:
                raise
            except requests.RequestException as exc:
                inner = _fetch_error_in(exc)
                if inner is not None:
                    raise inner from None
                raise FetchError("The address could not be reached.") from None
            with response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    url = urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise FetchError(f"The address answered HTTP {response.status_code}.", response.status_code)
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError("The file is too large.")
                return _stream(response, dest, max_bytes, started, deadline), response.headers.get(
                    "Content-Type", ""
                )
        raise FetchError("Too many redirects.")
    finally:
        session.close()


def _fetch_error_in(exc: BaseException | None) -> FetchError | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, FetchError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _stream(response, dest: Path, max_bytes: int, started: float, deadline: float) -> int:
    """Copy the body into dest within the deadline, counted in wall-clock time.

    A server that drips one byte every few seconds never trips a socket timeout, and a read
    asking for a whole chunk would wait for all of it; so each read takes whatever has
    arrived (read1), the socket's timeout shrinks to the time left before every read, and
    the clock is checked between reads. The file is not synced to disk: every caller copies
    it into storage and drops it, and a download lost in a crash is fetched again.
    """
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=dest.suffix)
    size = 0
    raw = response.raw
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                remaining = deadline - (time.monotonic() - started)
                if remaining <= 0:
                    raise FetchError("The download took too long.")
                connection = raw.connection
                if connection is not None and connection.sock is not None:
                    connection.sock.settimeout(min(remaining, READ_TIMEOUT))
                try:
                    chunk = raw.read1(CHUNK, decode_content=True)
                except (urllib3.exceptions.HTTPError, OSError):
                    if time.monotonic() - started >= deadline:
                        raise FetchError("The download took too long.") from None
                    raise FetchError("The download broke off.") from None
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("The file is too large.")
                out.write(chunk)
        os.replace(tmp_name, dest)
        return size
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
