"""A tiny scripted upstream for client unit tests: both dialects, odd shapes, queued faults.

The real local engine (riffweb.engine) is what integration tests run against; this stub exists
to produce exact answers on demand (a given status code, a given body shape, a refusal of long
feed lists) that the engine's random fault injection cannot promise.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np

from riffweb import audio


def tone_wav(seconds: float = 1.0, rate: int = 22050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return audio.encode_wav((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None], rate)


class StubUpstream:
    def __init__(self, render_delay: float = 0.3, max_feed_ids: int | None = None, feed_shape: str = "array"):
        self.render_delay = render_delay
        self.max_feed_ids = max_feed_ids
        self.feed_shape = feed_shape
        self.faults: dict[str, deque] = {}
        self.calls: Counter = Counter()
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.tracks: dict[str, dict] = {}
        self.jobs: dict[str, list[str]] = {}
        self.audio = tone_wav()
        self.lock = threading.Lock()
        self._n = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stub._handle(self, "GET")

            def do_POST(self):
                stub._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, endpoint: str, *answers):
        """Queue answers for an endpoint: (status, body, headers) or "hang:<seconds>"."""
        self.faults.setdefault(endpoint, deque()).extend(answers)

    def _track(self, tid: str) -> dict:
        track = self.tracks[tid]
        elapsed = time.monotonic() - track["started"]
        if track.get("fail"):
            return {"id": tid, "status": "failed", "error": "render failed", "process": 40}
        if elapsed >= self.render_delay:
            url = f"{self.url}/audio/{tid}.wav"
            return {"id": tid, "status": "success", "process": 100, "title": "Stub song",
                    "audio_url": url, "download_url": url, "generations": [{"id": tid, "audio_url": url}]}
        return {"id": tid, "status": "process", "process": int(100 * elapsed / self.render_delay)}

    def _new_tracks(self, body: dict) -> list[str]:
        ids = []
        with self.lock:
            for _ in range(2):
                self._n += 1
                tid = f"trk-{self._n}"
                self.tracks[tid] = {"started": time.monotonic(), "fail": "failrender" in json.dumps(body)}
                ids.append(tid)
        return ids

    def _handle(self, h, method):
        parts = urlsplit(h.path)
        path, query = parts.path, parse_qs(parts.query)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw and h.headers.get("Content-Type", "").startswith("application/json") else {}
        except ValueError:
            body = {}
        endpoint = (
            "feed" if path.startswith("/riffusion/feed/") else
            "audio" if path.startswith("/audio/") else
            "create" if path.endswith(("/generate", "/generate/topic", "/create-compose", "/create-prompt")) else
            "job" if path == "/v1/riffusion/music/" else path
        )
        self.calls[endpoint] += 1
        self.requests.append((method, h.path, body, dict(h.headers)))
        queue = self.faults.get(endpoint)
        if queue:
            answer = queue.popleft()
            if isinstance(answer, str) and answer.startswith("hang:"):
                time.sleep(float(answer[5:]))
            else:
                status, payload, headers = (list(answer) + [{}])[:3]
                return self._send(h, status, payload, headers)
        if endpoint == "create":
            ids = self._new_tracks(body)
            if path.startswith("/v1/"):
                job = f"job-{ids[0]}"
                self.jobs[job] = ids
                return self._send(h, 200, {"job_id": job, "user_id": "u"})
            return self._send(h, 200, {"jobs": [{"id": i} for i in ids]})
        if endpoint == "feed":
            ids = path.rsplit("/", 1)[1].split(",")
            if self.max_feed_ids and len(ids) > self.max_feed_ids:
                return self._send(h, 400, {"error": "too many ids", "code": 400})
            items = [self._track(i) for i in ids if i in self.tracks]
            items.reverse()  # never rely on position
            if self.feed_shape == "data":
                return self._send(h, 200, {"data": items, "extra": 1})
            return self._send(h, 200, items)
        if endpoint == "job":
            ids = self.jobs.get(query.get("id", [""])[0], [])
            return self._send(h, 200, [self._track(i) | {"status": "completed" if self._track(i)["status"] == "success" else "running"} for i in ids])
        if endpoint == "audio":
            return self._send(h, 200, self.audio, {"Content-Type": "audio/wav"})
        return self._send(h, 404, {"error": "not found"})

    @staticmethod
    def _send(h, status, payload, headers=None):
        data = payload if isinstance(payload, bytes) else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        )
        h.send_response(status)
        headers = headers or {}
        h.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
