"""The engine application: routing, auth, fault injection, stats, and job creation
shared by both dialects. Independent of the HTTP server that feeds it requests."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import random
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from riffweb import audio

from . import artwork, dialect_a, dialect_b, transforms
from .composer import MIN_SECONDS, Prompt, SongSpec, stable_seed
from .jobs import PROCESS, SUCCESS, Job, JobStore, RenderFailed, Track, Upload, new_id
from .lyrics import TIMED_SHAPES
from .store import AudioStore, Clip
from .transforms import Stems
from .web import ApiError, Request, Response, iso_time, json_response

log = logging.getLogger(__name__)

MODERATED = {"is_flagged": True, "reason": "moderation", "musician_replacement_data": None}
UNAUTHORIZED = {"error": "Unauthorized", "code": 401}
OUTAGE = {"error": "Service temporarily unavailable", "code": 503}
CALLBACK_TIMEOUT = 3.0
# A hosted service calls many customers' URLs at once; one sender in a row made a burst of
# finished jobs wait here, not in the app under test. One job's callbacks keep their order (its
# jobs always go to the same sender).
CALLBACK_SENDERS = 4

# Kinds of call: which ones need the token, which ones faults may hit.
AUTHENTICATED = {"create", "feed", "upload", "download", "lyrics"}
FAULTABLE = {"create", "feed", "upload", "download", "lyrics"}
UNKNOWN_JOB_ANSWERS = ("404", "empty")
FEED_OVERFLOWS = ("400", "414", "truncate")
ACCOUNT_ERROR = {
    "error": "Your Riffusion account has pending error: sign in to the account and settle it, then retry.",
    "code": 596,
}
PROVIDER_BUSY = {"detail": "Too Many Requests"}
IMAGE_FAULTS = ("", "bomb", "not_image")


@dataclass(frozen=True)
class EngineConfig:
    host: str = "127.0.0.1"
    port: int = 0
    render_delay: float = 20.0
    token: str | None = None
    max_jobs: int = 100
    fault_rate_429: float = 0.0
    fault_rate_5xx: float = 0.0
    fault_rate_malformed: float = 0.0
    # Share of API calls of any kind (downloads too) answered 596: the account needs its operator.
    fault_rate_596: float = 0.0
    # Seconds sent as Retry-After with every 429 (None: no header, as the documentation shows none).
    retry_after: int | None = None
    latency: float = 0.0
    moderation_words: tuple[str, ...] = ()
    fail_render_words: tuple[str, ...] = ()
    trusted_url_prefixes: tuple[str, ...] = ()
    render_workers: int = 2
    seed_faults: int = 0
    data_dir: str | None = None
    user_id: str = "engine"
    # Every song rendered at about this many seconds (None: the request decides, at
    # least 30 s). For benchmarks and demos; the only way to get songs under 30 s.
    song_seconds: float | None = None
    # Encode each track's MP3 when its render finishes, like a hosted upstream whose
    # file exists when it says done (default: on first download).
    eager_mp3: bool = False
    # Render this many clips once at start and serve them, in turn, as every generated track,
    # with as many cover pictures (0: render each track and cover). For load benchmarks, where
    # rendering (a cover costs ~40 ms of CPU) would be the bottleneck.
    prerendered: int = 0
    # Dialect B's answer to `GET music?id=` for a job it does not know (never made, or
    # forgotten): "404" with an error body, or "empty": 200 with [] as some gateways do.
    unknown_job: str = "404"
    # Songs in one dialect B job (the API leaves the number open; 1 = a job holds one song).
    songs_per_job: int = 2
    # The status word dialect B's upload reports once processed ("complete" also appears).
    upload_ready_status: str = "completed"
    # Dialect A's feed takes at most this many ids per call (None: any number); more answer
    # as feed_overflow says: "400", "414" (URI too long) or "truncate" (fewer tracks, 200).
    max_feed_ids: int | None = 100
    feed_overflow: str = "400"
    # Dialect B: calls about a job, song or upload (status, download) must carry the
    # `user_id` of the account that made it; a missing or other one answers 400.
    check_user_id: bool = False
    # Longest upload the engine decodes (a hosted service has a limit too; without one a
    # small file holding hours of audio takes gigabytes).
    max_audio_seconds: float = audio.MAX_SECONDS
    # When each lyric line is sung, on finished tracks (B `lyrics_timestamped`, and the same
    # field on A's feed): "lines", "words" (one entry per word) or "none" (left out).
    timed_lyrics: str = "lines"
    # A preview while a track is made (A: generations[].audio_url, B: status "streaming" with
    # download_url): the track's first part, reported once this share of the render time has
    # passed. Off: like a hosted service that never sends one.
    previews: bool = True
    preview_after: float = 0.4
    # Cover art per track at image_url (a PNG drawn from the track's seed); off: no image_url.
    images: bool = True
    # What image_url serves instead of a picture, for the bad days: "bomb" (a small PNG that
    # decodes to 36 megapixels) or "not_image" (an HTML page sent as image/png).
    image_fault: str = ""


@dataclass(frozen=True)
class Source:
    id: str
    kind: str  # "riff" or "upload"
    duration: float


ROUTES: list[tuple[str, re.Pattern, Callable, str]] = [
    ("GET", re.compile(r"/_engine/health"), lambda app, req: json_response({"ok": True}), "internal"),
    ("GET", re.compile(r"/_engine/stats"), lambda app, req: json_response(app.stats()), "internal"),
    ("POST", re.compile(r"/_engine/outage"), lambda app, req: app.outage_switch(req), "internal"),
    ("POST", re.compile(r"/_engine/forget"), lambda app, req: app.forget_request(req), "internal"),
    (
        "GET",
        re.compile(r"/audio/(?P<item_id>[0-9a-f]{32})(?:/(?P<stem>vocals|instrumental))?\.(?P<fmt>mp3|wav)"),
        lambda app, req, **kw: app.audio_file(**kw),
        "audio",
    ),
    (
        "GET",
        re.compile(r"/audio/(?P<item_id>[0-9a-f]{32})/preview\.mp3"),
        lambda app, req, **kw: app.preview_file(**kw),
        "preview",
    ),
    ("GET", re.compile(r"/image/(?P<item_id>[0-9a-f]{32})\.png"), lambda app, req, **kw: app.image_file(**kw), "image"),
    ("POST", re.compile(r"/riffusion/generate"), dialect_a.generate, "create"),
    ("POST", re.compile(r"/riffusion/generate/topic"), dialect_a.topic, "create"),
    ("GET", re.compile(r"/riffusion/feed/(?P<ids>[^/]+)"), dialect_a.feed, "feed"),
    ("POST", re.compile(r"/riffusion/upload"), dialect_a.upload, "upload"),
    ("POST", re.compile(r"/v1/riffusion/music/create-compose/?"), dialect_b.create_compose, "create"),
    ("POST", re.compile(r"/v1/riffusion/music/create-prompt/?"), dialect_b.create_prompt, "create"),
    ("GET", re.compile(r"/v1/riffusion/music/?"), dialect_b.music, "feed"),
    ("POST", re.compile(r"/v1/riffusion/music/generate-lyrics/?"), dialect_b.generate_lyrics, "lyrics"),
    ("POST", re.compile(r"/v1/riffusion/music/upload-audio/?"), dialect_b.upload, "upload"),
    ("GET", re.compile(r"/v1/riffusion/music/upload-audio/?"), dialect_b.upload_status, "upload"),
    ("GET", re.compile(r"/v1/riffusion/music/download/?"), dialect_b.download, "download"),
]


class EngineApp:
    def __init__(self, config: EngineConfig):
        if config.unknown_job not in UNKNOWN_JOB_ANSWERS:
            raise ValueError(f"unknown_job: must be one of {', '.join(UNKNOWN_JOB_ANSWERS)}")
        if config.feed_overflow not in FEED_OVERFLOWS:
            raise ValueError(f"feed_overflow: must be one of {', '.join(FEED_OVERFLOWS)}")
        if config.timed_lyrics not in TIMED_SHAPES:
            raise ValueError(f"timed_lyrics: must be one of {', '.join(TIMED_SHAPES)}")
        if config.songs_per_job < 1:
            raise ValueError("songs_per_job: must be at least 1")
        if config.image_fault not in IMAGE_FAULTS:
            raise ValueError(f"image_fault: must be one of {', '.join(map(repr, IMAGE_FAULTS))}")
        if not 0 <= config.preview_after < 1:
            raise ValueError("preview_after: must be at least 0 and below 1")
        if config.max_feed_ids is not None and config.max_feed_ids < 1:
            raise ValueError("max_feed_ids: must be at least 1, or None for no limit")
        self.config = config
        if config.data_dir:
            root, self._temp_root = Path(config.data_dir), None
        else:
            root = self._temp_root = Path(tempfile.mkdtemp(prefix="riffweb-engine-"))
        self.store = AudioStore(root, eager_mp3=config.eager_mp3)
        self.jobs = JobStore(self.store, config.render_delay, config.render_workers)
        self.jobs.on_change = self._job_changed
        self._clips = [self._prerender(seed) for seed in range(config.prerendered)]
        self._clip_turn = itertools.count()
        self._faults = random.Random(config.seed_faults)
        self._account_faults = random.Random(config.seed_faults + 596)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._callbacks = [ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-callback")
                           for _ in range(CALLBACK_SENDERS)]
        self._outage = False

    def _prerender(self, seed: int) -> Clip:
        seconds = self.config.song_seconds or 30.0
        spec = SongSpec(prompts=[Prompt("synthwave")], instrumental=True, seed=seed, duration=seconds,
                        min_seconds=min(seconds, MIN_SECONDS))
        stems = transforms.generate(spec)
        plan, clip_id = stems.plan, new_id()
        duration, waveform = self.store.save(clip_id, stems)
        return Clip(clip_id, duration, waveform, plan)

    def close(self) -> None:
        self.jobs.stop()
        for sender in self._callbacks:
            sender.shutdown(wait=True, cancel_futures=True)
        if self._temp_root is not None:
            shutil.rmtree(self._temp_root, ignore_errors=True)

    def count(self, kind: str) -> None:
        with self._lock:
            self._counts[kind] += 1

    # Dispatch --------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        allowed = []
        for method, pattern, handler, kind in ROUTES:
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            try:
                if kind != "internal":
                    self.count(kind)
                    if self._outage:
                        self.count("outage")
                        raise ApiError(503, dict(OUTAGE))
                if kind in AUTHENTICATED:
                    self._guard(request, kind)
                return handler(self, request, **match.groupdict())
            except ApiError as exc:
                answer = exc.response()
                if exc.status == 429 and self.config.retry_after is not None:
                    answer.headers["Retry-After"] = str(self.config.retry_after)
                return answer
            except Exception:  # a bug must answer 500, never kill the connection thread silently
                log.exception("engine error on %s %s", request.method, request.path)
                return json_response({"error": "Internal engine error", "code": 500}, 500)
        if allowed:
            return json_response({"error": f"Method not allowed; use {', '.join(allowed)}", "code": 405}, 405)
        return json_response({"error": "Not found", "code": 404}, 404)

    def _guard(self, request: Request, kind: str) -> None:
        if self.config.latency > 0:
            time.sleep(self.config.latency)
        if self.config.token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.config.token}".encode()):
                self.count("unauthorized")
                raise ApiError(401, UNAUTHORIZED)
        cfg = self.config
        roll, code, account_roll = 1.0, 500, 1.0
        with self._lock:
            if kind in FAULTABLE:
                roll = self._faults.random()
                code = self._faults.choice((500, 502, 503))
            if cfg.fault_rate_596 > 0:  # its own dice: the other faults' sequence stays the same
                account_roll = self._account_faults.random()
        if account_roll < cfg.fault_rate_596:
            self.count("fault_596")
            raise ApiError(596, dict(ACCOUNT_ERROR))
        if roll < cfg.fault_rate_429:
            self.count("fault_429")
            raise ApiError(429, dict(PROVIDER_BUSY))
        if roll < cfg.fault_rate_429 + cfg.fault_rate_5xx:
            self.count("fault_5xx")
            raise ApiError(code, {"error": "Injected upstream failure", "code": code})
        if roll < cfg.fault_rate_429 + cfg.fault_rate_5xx + cfg.fault_rate_malformed:
            self.count("fault_malformed")
            raise _Malformed()

    # Switches for tests and demos -----------------------------------------------------

    def set_outage(self, on: bool) -> None:
        """While on, every API call answers 503; renders carry on, as a hosted service's would."""
        self._outage = bool(on)

    def forget_jobs(self, ids: list[str] | None = None) -> set[str]:
        """Forget jobs or tracks (None: all), like a restart or a service that drops a job."""
        return self.jobs.forget(ids)

    def outage_switch(self, request: Request) -> Response:
        on = request.form().get("on")
        if not isinstance(on, bool):
            raise ApiError.bad("on: must be true or false")
        self.set_outage(on)
        return json_response({"outage": on})

    def forget_request(self, request: Request) -> Response:
        """`POST /_engine/forget` with `{"ids": [...]}`, or no body at all to forget every job."""
        ids = request.form().get("ids") if request.body.strip() else None
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise ApiError.bad("ids: must be a list of job or track ids")
        return json_response({"forgotten": sorted(self.forget_jobs(ids))})

    # Shared rules ----------------------------------------------------------------

    def moderate(self, *texts: str) -> None:
        if _contains_any(texts, self.config.moderation_words):
            self.count("moderated")
            raise ApiError(422, dict(MODERATED))

    def check_capacity(self, user_id: str, max_jobs: int | None = None, *, accounts: bool = False) -> None:
        """429 when the engine is full, or the account has `max_jobs` running.

        With `accounts` (dialect B, a gateway of accounts) the body names the account and lists
        its running jobs; otherwise it is the provider's own `{"detail": ...}`.
        """
        running = self.jobs.running_jobs()
        mine = self.jobs.running_jobs(user_id)
        if len(running) < self.config.max_jobs and (max_jobs is None or len(mine) < max_jobs):
            return
        self.count("busy")
        if not accounts:
            raise ApiError(429, dict(PROVIDER_BUSY))
        listed = [
            {"user_id": job.user_id, "job_id": job.id, "started": iso_time(job.created_at),
             "replyUrl": job.reply_url, "replyRef": job.reply_ref}
            for job in mine
        ]
        raise ApiError(
            429,
            {"error": f"Account {user_id} is busy executing {len(mine)} jobs", "runningJobs": {user_id: listed}, "code": 429},
        )

    def source(self, riff_id: str, upload_id: str, prefix: str, riff_name: str = "riff_id") -> Source | None:
        """The track or upload a transform starts from; 400s name the offending field."""
        if riff_id and upload_id:
            raise ApiError.bad(f"{prefix}{riff_name}: give either {riff_name} or audio_upload_id, not both")
        if riff_id:
            track = self.jobs.track(riff_id)
            if track is None:
                raise ApiError.bad(f"{prefix}{riff_name}: no track with this id")
            if track.status != SUCCESS:
                raise ApiError.bad(f"{prefix}{riff_name}: the track is not finished")
            return Source(riff_id, "riff", track.duration or 0.0)
        if upload_id:
            upload = self.jobs.uploads.get(upload_id.split(":")[0])
            if upload is None:
                raise ApiError.bad(f"{prefix}audio_upload_id: no upload with this id")
            return Source(upload.id, "upload", upload.duration)
        return None

    def seed_for(self, body: dict, seed: int | None) -> int:
        """Requests without a seed are seeded by their content: a repeat repeats its songs."""
        if seed is not None:
            return int(seed)
        canonical = json.dumps(body, sort_keys=True, default=str)
        return stable_seed(hashlib.sha256(canonical.encode()).hexdigest()) % 2147483648

    def create(
        self,
        request: Request,
        *,
        spec: SongSpec,
        user_id: str,
        title: str,
        tags: str,
        lyrics: str,
        fail_texts: tuple[str, ...],
        transform: str | None = None,
        source: Source | None = None,
        params: dict | None = None,
        reply_url: str | None = None,
        reply_ref: str | None = None,
        songs: int = 2,
    ) -> Job:
        fail = _contains_any(fail_texts, self.config.fail_render_words)
        if self.config.song_seconds is not None:
            spec = replace(spec, duration=self.config.song_seconds, min_seconds=min(spec.min_seconds, self.config.song_seconds))
        build = self._builder(transform, source, params or {})

        def work(variant: int) -> Callable[[], Stems | Clip]:
            def run() -> Stems | Clip:
                if fail:
                    raise RenderFailed("The render failed: the request hit the engine's failing-render trigger.")
                if self._clips and transform is None:
                    return self._clips[next(self._clip_turn) % len(self._clips)]
                return build(replace(spec, variant=variant))

            return run

        job = self.jobs.submit(
            user_id=user_id,
            title=title,
            tags=tags,
            lyrics=lyrics,
            works=[work(variant) for variant in range(songs)],
            seed=spec.seed,
            transform=transform,
            parent_riff_id=source.id if source and source.kind == "riff" else None,
            audio_upload_id=source.id if source and source.kind == "upload" else None,
            reply_url=reply_url,
            reply_ref=reply_ref,
            base_url=request.base_url,
        )
        self.count("tracks_created")
        return job

    def _builder(self, transform: str | None, source: Source | None, params: dict) -> Callable[[SongSpec], Stems]:
        if transform is None:
            return transforms.generate

        def build(spec: SongSpec) -> Stems:
            src = self.store.load(source.id)
            if transform == "extend":
                return transforms.extend(src, params["at"], spec)
            if transform == "inpaint":
                return transforms.inpaint(src, params["start"], params["end"], spec)
            if transform == "swap_vocals":
                return transforms.swap_vocals(src, spec)
            if transform == "swap_sound":
                return transforms.swap_sound(src, spec)
            return transforms.cover(src, params["strength"], spec)

        return build

    def fetch_trusted(self, url: str, field: str) -> bytes:
        """Download an upload URL, but only from a configured trusted prefix."""
        if not isinstance(url, str) or not url:
            raise ApiError.bad(f"{field}: required")
        trusted = any(_under_prefix(url, prefix) for prefix in self.config.trusted_url_prefixes)
        if not trusted:
            raise ApiError.bad(f"{field}: the engine only fetches from its trusted locations")
        opener = urllib.request.build_opener(_TrustedRedirects(self.config.trusted_url_prefixes))
        try:
            with opener.open(url, timeout=15) as answer:
                data = answer.read(50 * 1024 * 1024 + 1)
        except (OSError, ValueError) as exc:
            raise ApiError.bad(f"{field}: could not be downloaded ({exc.__class__.__name__})") from None
        if len(data) > 50 * 1024 * 1024:
            raise ApiError.bad(f"{field}: larger than 50 MB")
        return data

    def check_account(self, request: Request, owner: str) -> None:
        """With check_user_id, a call about another account's job or upload is refused."""
        if self.config.check_user_id and request.query.get("user_id", "") != owner:
            self.count("wrong_account")
            raise ApiError.bad(f"user_id: this belongs to another account; send user_id={owner}")

    def add_upload(self, data: bytes, file_name: str, field: str, user_id: str = "") -> Upload:
        try:
            decoded = audio.decode(data, max_seconds=self.config.max_audio_seconds)
        except audio.AudioError as exc:
            raise ApiError.bad(f"{field}: not audio we can read or accept. {exc}") from None
        stems = transforms.upload_stems(decoded.samples, decoded.sample_rate)
        upload_id = new_id()
        duration, _ = self.store.save(upload_id, stems)
        now = time.time()
        # Transcription is modelled as a short pending phase, like the hosted service.
        upload = Upload(upload_id, new_id(), duration, decoded.format, file_name, now,
                        now + self.config.render_delay / 4, user_id or self.config.user_id)
        with self.jobs.lock:
            self.jobs.uploads[upload_id] = upload
        return upload

    # Callbacks, audio, stats -------------------------------------------------------

    def _job_changed(self, job: Job) -> None:
        if not job.reply_url:
            return
        payload = {"replyRef": job.reply_ref, "job_id": job.id, "songs": dialect_b.job_songs(self, job)}
        sender = self._callbacks[zlib.crc32(job.id.encode()) % CALLBACK_SENDERS]
        sender.submit(self._post_callback, job.reply_url, payload)

    def _post_callback(self, url: str, payload: dict) -> None:
        data = json.dumps(payload).encode()
        req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=CALLBACK_TIMEOUT) as answer:
                answer.read()
            self.count("callbacks_sent")
        except Exception:  # a dead callback target must never disturb rendering
            self.count("callbacks_failed")

    def audio_file(self, item_id: str, fmt: str, stem: str | None = None) -> Response:
        track = self.jobs.track(item_id)
        if track is None or track.status != SUCCESS:
            raise ApiError.not_found("No finished track with this id")
        path = self.store.file(item_id, fmt, stem)
        ctype = "audio/mpeg" if fmt == "mp3" else "audio/wav"
        return Response(200, path.read_bytes(), ctype)

    def preview_url(self, track: Track, base_url: str) -> str | None:
        """Where a track still being made can be heard so far, or None (none yet, or previews off)."""
        if not self.config.previews or track.status != PROCESS or track.duration is None:
            return None
        if time.time() - track.created_at < self.config.preview_after * self.jobs.render_delay:
            return None
        return f"{base_url}/audio/{track.id}/preview.mp3"

    def image_url(self, track: Track, base_url: str) -> str | None:
        return f"{base_url}/image/{track.id}.png" if self.config.images else None

    def preview_file(self, item_id: str) -> Response:
        track = self.jobs.track(item_id)
        if track is None or not self.config.previews or track.duration is None:
            raise ApiError.not_found("No preview of this track yet")
        return Response(200, self.store.preview(item_id).read_bytes(), "audio/mpeg")

    def image_file(self, item_id: str) -> Response:
        track = self.jobs.track(item_id)
        if track is None or not self.config.images:
            raise ApiError.not_found("No image for this id")
        if self.config.image_fault == "bomb":
            return Response(200, artwork.bomb_png(), "image/png")
        if self.config.image_fault == "not_image":
            return Response(200, b"<html><body>Not a picture</body></html>", "image/png")
        seed = track.art_seed % self.config.prerendered if self.config.prerendered else track.art_seed
        return Response(200, artwork.cover_png(seed), "image/png")

    def stats(self) -> dict:
        with self.jobs.lock:
            tracks = {
                t.id: {"job_id": t.job_id, "status": t.status, "created_at": t.created_at, "done_at": t.done_at}
                for t in self.jobs.tracks.values()
            }
        with self._lock:
            counts = dict(self._counts)
        return {
            "counts": counts, "tracks": tracks, "running_jobs": len(self.jobs.running_jobs()), "outage": self._outage,
        }


class _Malformed(ApiError):
    """A 200 whose body is cut off mid-JSON, like a proxy dropping the connection."""

    def __init__(self):
        super().__init__(200, {})

    def response(self) -> Response:
        return Response(200, b'{"jobs": [{"id": "', "application/json")


class _TrustedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only into another trusted location: a trusted host must not
    be able to bounce the engine to an arbitrary one."""

    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not any(_under_prefix(newurl, prefix) for prefix in self.prefixes):
            raise urllib.error.HTTPError(newurl, code, "redirect outside the trusted locations", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _contains_any(texts, words) -> bool:
    haystack = " ".join(t for t in texts if isinstance(t, str)).lower()
    return any(w.lower() in haystack for w in words if w)


def _under_prefix(url: str, prefix: str) -> bool:
    if not prefix.endswith("/"):
        prefix += "/"  # "http://host" must not also trust "http://host.evil.example"
    return url.startswith(prefix) and "/../" not in url[len(prefix) - 1 :] and "\\" not in url
