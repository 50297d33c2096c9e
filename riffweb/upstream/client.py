"""The one module that speaks HTTP to the upstream, in either dialect (described in API.md).

Every answer becomes a typed result or one of the exceptions below; nothing else in riffweb
knows status codes, JSON shapes or unit scales. Internally every strength and every compose
time range is a 0–1 float; they are converted here. The bearer token is sent in a header
and never appears in a log line, an exception message or a kept body.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urljoin

import requests
from django.conf import settings

from riffweb.upstream import dialects
from riffweb.upstream.dialects import RIFFUSION, USEAPI
from riffweb.upstream.fetch import FetchError, fetch_to_file

log = logging.getLogger(__name__)

# (connect, read) seconds. Creates may take a while to be accepted; status calls are cheap.
CREATE_TIMEOUT = (3.05, 30)
STATUS_TIMEOUT = (3.05, 10)
UPLOAD_TIMEOUT = (3.05, 120)

BODY_KEPT = 4000


class UpstreamError(Exception):
    """Base of every upstream failure. `detail` is for operators (body kept, token redacted)."""

    def __init__(self, message: str, detail: str = "", status: int | None = None):
        super().__init__(message)
        self.detail = detail
        self.status = status


class UpstreamBusy(UpstreamError):
    """429: wait `retry_after` seconds, then try again. `running_jobs`: how many jobs the
    account is busy with, when the answer said (None when the provider itself was busy).
    `stated`: the service named the wait (Retry-After); otherwise it is our 10–30 s guess."""

    def __init__(self, message: str, retry_after: float, detail: str = "", status: int = 429,
                 running_jobs: int | None = None, stated: bool = True):
        super().__init__(message, detail, status)
        self.retry_after = retry_after
        self.running_jobs = running_jobs
        self.stated = stated


class UpstreamUnavailable(UpstreamError):
    """5xx, a connection error or a malformed body: retry with backoff."""


class UpstreamRejected(UpstreamError):
    """422: the upstream's moderation refused the request. `reason` can be shown."""

    def __init__(self, reason: str, detail: str = "", status: int = 422):
        super().__init__(f"The upstream declined this request ({reason}).", detail, status)
        self.reason = reason


class UpstreamAuthError(UpstreamError):
    """401 or 596: the account or token needs an operator; no call will succeed until then."""


class UpstreamInvalid(UpstreamError):
    """400 (or another 4xx): the request itself is wrong. `reason` can be shown."""

    def __init__(self, reason: str, detail: str = "", status: int = 400):
        super().__init__(reason, detail, status)
        self.reason = reason


class UpstreamTimeout(UpstreamError):
    """A create was sent and no answer came: the upstream may or may not have started it."""


@dataclass
class Prompt:
    text: str
    strength: float = 0.5  # 0–1
    start: float = 0.0  # 0–1 of the song
    end: float = 1.0


@dataclass
class Request:
    """One creation request in riffweb's own terms (0–1 scales, seconds for song positions)."""

    mode: str
    title: str = ""
    lyrics: str = ""
    tags: str = ""
    topic: str = ""
    model: str = ""
    instrumental: bool = False
    seed: int | None = None
    prompts: list[Prompt] = field(default_factory=list)
    lyrics_strength: float | None = None
    sound_prompt_strength: float | None = None
    weirdness: float | None = None
    cover_strength: float | None = None
    variation_strength: float | None = None
    extend_at: float | None = None
    replace_start: float | None = None
    replace_end: float | None = None
    riff_id: str = ""
    audio_upload_id: str = ""
    source_style: str = ""  # the style the source song was made with: B's prompt when tags are empty
    reply_url: str = ""
    reply_ref: str = ""


@dataclass
class Track:
    """One track's state as the upstream reported it, in either dialect."""

    id: str
    state: str  # "running", "done" or "failed"
    progress: int | None = None  # 0–100 when the upstream said
    audio_url: str = ""  # only final when state == "done"
    preview_url: str = ""  # audio of a track still being made: the part made so far
    title: str = ""
    lyrics: str = ""
    style: str = ""  # the style the service used (A `tag`, B `sound`)
    image_url: str = ""  # cover art
    duration: float | None = None
    error: str = ""
    raw_status: str = ""
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class UploadInfo:
    id: str
    state: str  # "pending", "ready", "flagged" or "failed"
    audio_upload_id: str = ""
    lyrics: str = ""


# --- conversions at the boundary -------------------------------------------------------


def percent(x: float | None, low: int = 0, high: int = 100) -> int | None:
    """0–1 → integer percent, clamped to [low, high] (prompt strengths: 20–100)."""
    if x is None:
        return None
    return max(low, min(high, round(float(x) * 100)))


def unit(x: float | None) -> float | None:
    if x is None:
        return None
    return max(0.0, min(1.0, float(x)))


def track_state(word: str) -> str:
    """API.md, status words: done words, failure words, and anything else is still running."""
    w = (word or "").strip().lower()
    if w in {"success", "succeeded", "complete", "completed", "done"}:
        return "done"
    if any(bad in w for bad in ("fail", "error", "flag")):
        return "failed"
    return "running"


def busy_jobs(data) -> int | None:
    """How many jobs a 429 says the account is running (API.md, errors), or None.

    The jobs are listed per account (`{"<user_id>": [{"job_id", …}, …]}`), at the top level
    or under `runningJobs`; an older answer only says "busy executing N jobs"; the provider's
    own 429 (`{"detail"}`) says nothing about jobs.
    """
    if not isinstance(data, dict):
        return None
    for listing in (data.get("runningJobs"), data):
        if isinstance(listing, list):
            return len(listing)
        if isinstance(listing, dict):
            lists = [v for v in listing.values() if isinstance(v, list)]
            if lists:
                return sum(len(v) for v in lists)
    found = re.search(r"busy executing (\d+) jobs?", _text(data.get("error")))
    return int(found.group(1)) if found else None


def _auth_message(code: int) -> str:
    if code == 596:
        return "The upstream account has a pending error (HTTP 596): it needs an operator."
    return "The upstream refused our token (HTTP 401): check RIFFWEB_UPSTREAM_TOKEN."


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no number


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _image_url(item: dict) -> str:
    """API.md, cover art: `image_url`; some answers carry `image_id` instead, usable only when
    it is itself a link (an id alone names no address)."""
    for key in ("image_url", "image_id"):
        value = _text(item.get(key)).strip()
        if value.startswith(("http://", "https://", "/")):
            return value
    return ""


def parse_track(item: dict) -> Track | None:
    """One track or song object of either dialect → Track; None when it has no id."""
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        return None
    raw_status = _text(item.get("status"))
    state = track_state(raw_status)
    progress = _number(item.get("process", item.get("progress")))
    audio_url = _text(item.get("audio_url")) or _text(item.get("download_url"))
    if not audio_url:
        for generation in item.get("generations") or []:
            if isinstance(generation, dict) and _text(generation.get("audio_url")):
                audio_url = generation["audio_url"]
                break
    if state == "done":
        progress = 100
    elif progress is not None:
        progress = max(0, min(99, round(progress)))
    error = _text(item.get("error")) or _text(item.get("error_message")) or _text(item.get("reason"))
    return Track(
        id=str(item["id"]),
        state=state,
        progress=None if progress is None else int(progress),
        audio_url=audio_url,
        preview_url=audio_url if state == "running" else "",
        title=_text(item.get("title")),
        lyrics=_text(item.get("lyrics")),
        style=_text(item.get("tag")) or _text(item.get("sound")),
        image_url=_image_url(item),
        duration=_number(item.get("duration", item.get("duration_s"))),
        error=error[:400],
        raw_status=raw_status,
        raw=item,
    )


# Timed lyrics (API.md, `lyrics_timestamped`): what riffweb keeps of them, at most.
TIMED_FIELDS = ("lyrics_timestamped", "timestamped_lyrics", "aligned_lyrics", "aligned_words")
TIMED_MAX_LINES = 500
TIMED_MAX_TEXT = 300


def _timing(entry: dict, name: str) -> float | None:
    for key in (name, f"{name}_s", f"{name}_time", f"{name}S"):
        if key in entry:
            return _number(entry[key])
    return None


def _timed_entries(listing: list) -> list[tuple[str, float | None, float | None]] | None:
    """(text, start, end) per line from either shape; None when an entry is not an object."""
    if not all(isinstance(e, dict) for e in listing):
        return None
    if listing and all("word" in e for e in listing):  # one entry per word: a line break ends a line
        lines, current = [], []
        for word in listing:
            current.append(word)
            if "\n" in _text(word.get("word")) or word is listing[-1]:
                text = "".join(_text(w.get("word")) for w in current).strip()
                lines.append((text, _timing(current[0], "start"), _timing(current[-1], "end")))
                current = []
        return lines
    entries = []
    for entry in listing:
        words = entry.get("words") if isinstance(entry.get("words"), list) else []
        text = _text(entry.get("text")) or _text(entry.get("line")) or " ".join(
            _text(w.get("word")).strip() for w in words if isinstance(w, dict))
        start, end = _timing(entry, "start"), _timing(entry, "end")
        if words and isinstance(words[0], dict) and isinstance(words[-1], dict):
            start = start if start is not None else _timing(words[0], "start")
            end = end if end is not None else _timing(words[-1], "end")
        entries.append((text, start, end))
    return entries


def timed_lyrics(item: dict, duration: float | None) -> list[dict]:
    """A track's timed lyrics as `[{"text", "start", "end"}]` in seconds, or [] when it has
    none or they do not hold together: every time a number, starts in order, each line ending
    after it starts and within the song, a bounded count. Never an error: they are a bonus."""
    listing = next((item[k] for k in TIMED_FIELDS if isinstance(item.get(k), list)), None)
    if not listing or len(listing) > TIMED_MAX_LINES * 20:
        return []
    entries = _timed_entries(listing)
    if entries is None or len(entries) > TIMED_MAX_LINES:
        return []
    limit = duration if duration and duration > 0 else None
    lines, previous = [], 0.0
    for text, start, end in entries:
        text = " ".join(text.split())[:TIMED_MAX_TEXT]
        if start is None or end is None or not 0 <= previous <= start < end:
            return []
        if limit is not None and start >= limit:
            return []
        if not text:
            continue
        lines.append({"text": text, "start": round(start, 3), "end": round(min(end, limit or end), 3)})
        previous = start
    return lines


SECTIONS_MAX = 64
SECTION_KIND_MAX = 30


def song_music(item: dict, duration: float | None) -> tuple[float | None, list[dict]]:
    """(bpm, sections) from a track's `metadata` (the local engine sends both; hosted APIs
    may send neither): bpm only when a plausible tempo, sections only when they hold together
    (kinds, starts in order, each inside the song). Never an error: they are a bonus."""
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    bpm = _number(metadata.get("bpm", metadata.get("tempo")))
    bpm = round(bpm, 2) if bpm is not None and 20 <= bpm <= 400 else None
    listing = metadata.get("sections")
    sections: list[dict] = []
    if isinstance(listing, list) and 0 < len(listing) <= SECTIONS_MAX:
        limit = duration if duration and duration > 0 else None
        previous = 0.0
        for entry in listing:
            if not isinstance(entry, dict):
                return bpm, []
            kind = " ".join(_text(entry.get("kind") or entry.get("name") or entry.get("label")).split())
            start, end = _timing(entry, "start"), _timing(entry, "end")
            if not kind or start is None or end is None or not 0 <= previous <= start < end:
                return bpm, []
            if limit is not None and start >= limit:
                return bpm, []
            sections.append({"kind": kind[:SECTION_KIND_MAX], "start": round(start, 3),
                             "end": round(min(end, limit or end), 3)})
            previous = start
    return bpm, sections


# --- the clients: one per dialect ---------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What a create started: a job id, the track's id when the job is one track, and the
    account that runs it when the answer named one (dialect B's `user_id`)."""

    job_id: str
    track_id: str = ""
    user_id: str = ""


class Client:
    """HTTP to one upstream; each dialect's class knows its paths, fields and answers.

    Callers never ask which dialect they hold: they create, poll a list of job ids in batches
    of `poll_batch`, and upload, and every class answers in riffweb's terms.
    """

    dialect = ""

    @property
    def poll_batch(self) -> int:
        return dialects.get(self.dialect).poll_batch

    @property
    def uploads_by_link(self) -> bool:
        """The upstream fetches a link to our copy of an upload (instead of taking its bytes)."""
        return dialects.get(self.dialect).upload_by_link

    def __init__(self, base_url: str, token: str = "", session=None):
        self.base_url = base_url.rstrip("/")
        self._token = token or ""
        self.session = session or requests.Session()
        self.session.trust_env = False

    def __repr__(self) -> str:  # never the token
        return f"<{type(self).__name__} {self.base_url}>"

    # --- transport ---

    def _redact(self, text: str) -> str:
        if self._token and self._token in text:
            text = text.replace(self._token, "[token]")
        return text

    def _call(self, method: str, path: str, *, timeout, unknown_on_timeout=False, **kwargs):
        headers = kwargs.pop("headers", {})
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        headers.setdefault("Accept", "application/json")
        where = f"{method} {path.split('?')[0]}"
        try:
            response = self.session.request(
                method, self.base_url + path, headers=headers, timeout=timeout,
                allow_redirects=False, **kwargs
            )
        except requests.ConnectTimeout as exc:
            raise UpstreamUnavailable("The upstream did not accept a connection.", f"{where}: {type(exc).__name__}") from None
        except requests.Timeout as exc:
            if unknown_on_timeout:
                raise UpstreamTimeout(
                    "The upstream did not answer in time.", f"{where}: {type(exc).__name__}"
                ) from None
            raise UpstreamUnavailable("The upstream did not answer in time.", f"{where}: timeout") from None
        except requests.RequestException as exc:
            raise UpstreamUnavailable(
                "The upstream could not be reached.", f"{where}: {type(exc).__name__}: {self._redact(str(exc))[:500]}"
            ) from None
        return self._answer(response, where)

    def _answer(self, response, where: str):
        body = self._redact(response.text[:BODY_KEPT])
        detail = f"{where} → HTTP {response.status_code}: {body}"
        code = response.status_code
        data = None
        try:
            data = response.json()
        except ValueError:
            pass
        if code == 429:
            retry_after = _number(response.headers.get("Retry-After"))
            stated = retry_after is not None and retry_after >= 0
            if not stated:
                retry_after = random.uniform(10, 30)
            raise UpstreamBusy("The upstream is busy.", min(retry_after, 600.0), detail, running_jobs=busy_jobs(data),
                               stated=stated)
        if code in (401, 403, 596):
            raise UpstreamAuthError(_auth_message(code), detail, code)
        if code == 422:
            reason = "moderation"
            if isinstance(data, dict):
                reason = _text(data.get("reason")) or _text(data.get("error")) or reason
            raise UpstreamRejected(reason, detail)
        if code >= 500 or code in (408, 425):
            raise UpstreamUnavailable(f"The upstream failed (HTTP {code}).", detail, code)
        if 300 <= code < 500:
            reason = ""
            if isinstance(data, dict):
                reason = _text(data.get("error")) or _text(data.get("detail")) or _text(data.get("message"))
            raise UpstreamInvalid(reason or f"The upstream refused the request (HTTP {code}).", detail, code)
        if data is None:
            raise UpstreamUnavailable("The upstream sent an answer we cannot read.", detail, code)
        return data

    def _unreadable(self, where: str, data) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            "The upstream sent an answer we cannot read.", f"{where} → {self._redact(json.dumps(data)[:BODY_KEPT])}"
        )

    # --- what every dialect answers ---

    def create(self, req: Request) -> list[Job]:
        """Send one creation request; return the jobs it started."""
        path, payload = self._create_payload(req)
        data = self._call("POST", path, json=payload, timeout=CREATE_TIMEOUT, unknown_on_timeout=True)
        account = _text(data.get("user_id"))[:200] if isinstance(data, dict) else ""
        jobs = [replace(job, user_id=account) for job in self._jobs(ids(data))]
        if not jobs:
            raise UpstreamUnavailable(
                "The upstream accepted the request but sent no id.",
                f"POST {path} → {self._redact(json.dumps(data)[:BODY_KEPT])}",
            )
        return jobs

    @classmethod
    def _create_payload(cls, req: Request) -> tuple[str, dict]:
        raise NotImplementedError

    @classmethod
    def model(cls, req: Request) -> str:
        """The model asked for, or the dialect's default when none was (or the request was
        made for the other dialect, before the site switched, and names a model this one lacks)."""
        offered = dialects.get(cls.dialect)
        return req.model if req.model in offered.models else offered.default_model

    def _jobs(self, job_ids: list[str]) -> list[Job]:
        raise NotImplementedError

    def poll(self, job_ids: list[str], accounts: dict[str, str] | None = None) -> dict[str, list[Track]]:
        """One status call about up to `poll_batch` jobs: each reported job's tracks.

        `accounts` maps a job id to the account that runs it, for a dialect whose calls name it.
        A job the upstream did not report (left out, an empty answer, "not found") is
        missing from the result: the caller counts that towards "lost".
        """
        raise NotImplementedError

    def upload(self, data: bytes, file_name: str, content_type: str, link: str) -> UploadInfo:
        """Hand the upstream a musician's audio: its bytes or a link to our copy."""
        raise NotImplementedError

    def upload_status(self, upload_id: str) -> UploadInfo:
        raise NotImplementedError

    def generate_lyrics(self, prompt: str) -> str:
        """Lyrics the service writes from a prompt (only where dialects.py offers "lyrics_help")."""
        raise UpstreamInvalid(dialects.get(self.dialect).reason("lyrics_help"))
    def download(self, song_id: str, fmt: str, dest: Path, *, user_id: str = "", max_bytes: int,
                 deadline: float, allow_private: bool) -> None:
        """A finished song's file as `fmt` ("wav") into dest, through the SSRF-safe fetcher."""
        raise UpstreamInvalid(dialects.get(self.dialect).reason("download_wav"))

    def stems(self, song_id: str, *, user_id: str = "") -> list[tuple[str, str]]:
        """A finished song's stems: (name, absolute URL of its WAV, else MP3) pairs."""
        raise UpstreamInvalid(dialects.get(self.dialect).reason("download_stems"))


def ids(data) -> list[str]:
    """Create answers: `jobs[].id`, `job_id` or `id`; one or more ids."""
    if isinstance(data, list):
        data = {"jobs": data}
    if not isinstance(data, dict):
        return []
    jobs = data.get("jobs")
    if isinstance(jobs, list):
        found = [str(j["id"]) for j in jobs if isinstance(j, dict) and j.get("id") not in (None, "")]
        found += [str(j) for j in jobs if isinstance(j, (str, int))]
        if found:
            return found
    for key in ("job_id", "id"):
        if data.get(key) not in (None, ""):
            return [str(data[key])]
    return []


def track_items(data) -> list[dict] | None:
    """Status answers: a top-level array, an object holding them, or a single object."""
    if isinstance(data, list):
        return [i for i in data if isinstance(i, dict)]
    if isinstance(data, dict):
        for key in ("data", "songs", "generations", "jobs", "tracks"):
            if isinstance(data.get(key), list):
                return [i for i in data[key] if isinstance(i, dict)]
        if "id" in data:
            return [data]
    return None


class RiffusionClient(Client):
    """Dialect A: every create makes tracks with their own ids; one feed call reports many."""

    dialect = RIFFUSION

    def _jobs(self, job_ids: list[str]) -> list[Job]:
        return [Job(i, i) for i in job_ids]

    @classmethod
    def _create_payload(cls, req: Request) -> tuple[str, dict]:
        model = cls.model(req)
        if req.mode == "inspiration":
            return "/riffusion/generate/topic", {
                "model": model, "topic": req.topic, "instrumental": req.instrumental
            }
        payload = {
            "model": model,
            "lyrics": "" if req.instrumental else req.lyrics,
            "tag": req.tags,
            "title": req.title,
            "instrumental": req.instrumental,
        }
        if req.mode in {"cover", "extend", "inpaint", "swap_vocals", "swap_sound"}:
            morph = {"transform": req.mode}
            if req.riff_id:
                morph["riff_id"] = req.riff_id
            else:
                morph["audio_upload_id"] = req.audio_upload_id
            if req.mode == "extend":
                morph["crop_end_at"] = req.extend_at
            if req.mode == "inpaint":
                morph["replace_start_at"] = req.replace_start
                morph["replace_end_at"] = req.replace_end
            for key, value in (
                ("normalized_lyrics_strength", req.lyrics_strength),
                ("normalized_sound_prompt_strength", req.sound_prompt_strength),
                ("normalized_weirdness", req.weirdness),
                # How faithfully a cover follows its source: the other transforms have no such control.
                ("normalized_cover_strength", req.cover_strength if req.mode == "cover" else None),
                ("normalized_variation_strength", req.variation_strength),
            ):
                if value is not None:
                    morph[key] = unit(value)
            payload["morph"] = morph
        elif req.mode != "professional":
            raise UpstreamInvalid(f"This upstream cannot do {req.mode}.")
        return "/riffusion/generate", payload

    def poll(self, job_ids: list[str], accounts: dict[str, str] | None = None) -> dict[str, list[Track]]:
        """The feed: many tracks in one call, matched by id (never by position)."""
        path = "/riffusion/feed/" + ",".join(quote(i, safe="") for i in job_ids)
        data = self._call("GET", path, timeout=STATUS_TIMEOUT)
        items = track_items(data)
        if items is None:
            raise self._unreadable("GET /riffusion/feed", data)
        wanted = set(job_ids)
        tracks = {}
        for item in items:
            track = parse_track(item)
            if track and track.id in wanted:
                tracks[track.id] = [track]
        return tracks

    def upload(self, data: bytes, file_name: str, content_type: str, link: str) -> UploadInfo:
        """The upstream fetches our signed link; the upload is usable at once."""
        answer = self._call("POST", "/riffusion/upload", json={"url": link}, timeout=UPLOAD_TIMEOUT)
        upload_id = _text(answer.get("audio_upload_id")) if isinstance(answer, dict) else ""
        upload_id = upload_id or next(iter(ids(answer)), "")
        if not upload_id:
            raise self._unreadable("POST /riffusion/upload", answer)
        return UploadInfo(id=upload_id, state="ready", audio_upload_id=upload_id)

    def upload_status(self, upload_id: str) -> UploadInfo:
        return UploadInfo(id=upload_id, state="ready", audio_upload_id=upload_id)


class UseapiClient(Client):
    """Dialect B: a create starts one job holding its songs; each job is asked about alone."""

    dialect = USEAPI

    def _jobs(self, job_ids: list[str]) -> list[Job]:
        return [Job(i) for i in job_ids]

    @classmethod
    def _create_payload(cls, req: Request) -> tuple[str, dict]:
        payload: dict = {}
        if req.mode == "inspiration":
            path = "/v1/riffusion/music/create-prompt"
            payload = {"prompt": req.topic, "instrumental": req.instrumental}
        elif req.mode in {"professional", "compose", "cover", "extend", "inpaint"}:
            path = "/v1/riffusion/music/create-compose"
            # prompt_1 is required: the style asked for, else the source's (a new title is no style).
            style = req.tags or req.source_style
            if not req.prompts and not style:
                raise UpstreamInvalid("This music service needs style tags: the source has no style on record.")
            prompts = req.prompts or [Prompt(text=style)]
            low, high = dialects.get(cls.dialect).prompt_strength_range
            for n, prompt in enumerate(prompts[:3], start=1):
                payload[f"prompt_{n}"] = prompt.text
                payload[f"prompt_{n}_strength"] = percent(prompt.strength, low, high)
                payload[f"prompt_{n}_start"] = percent(prompt.start)
                payload[f"prompt_{n}_end"] = percent(prompt.end)
            if req.lyrics and not req.instrumental:
                payload["lyrics"] = req.lyrics
            if req.title:
                payload["title"] = req.title
            payload["instrumental"] = req.instrumental
            if req.lyrics_strength is not None:
                payload["lyrics_strength"] = percent(req.lyrics_strength)
            if req.weirdness is not None:
                payload["lyrics_weirdness"] = percent(req.weirdness)
            if req.mode in {"cover", "extend", "inpaint"}:
                payload["transform"] = req.mode
                if req.riff_id:
                    payload["riff_id"] = req.riff_id
                else:
                    payload["audio_upload_id"] = req.audio_upload_id
                if req.mode == "cover" and req.cover_strength is not None:
                    # cover_variation is how far the cover may wander: the opposite of
                    # how faithfully it follows the original.
                    payload["cover_variation"] = percent(1 - req.cover_strength)
                if req.mode == "extend":
                    payload["extend_after_seconds"] = req.extend_at
                if req.mode == "inpaint":
                    payload["replace_start_seconds"] = req.replace_start
                    payload["replace_end_seconds"] = req.replace_end
        else:
            raise UpstreamInvalid(f"This upstream cannot do {req.mode.replace('_', ' ')}.")
        payload["model"] = cls.model(req)
        if configured_account():
            payload["user_id"] = configured_account()
        if settings.RIFFWEB_UPSTREAM_MAX_JOBS:
            payload["maxJobs"] = int(settings.RIFFWEB_UPSTREAM_MAX_JOBS)  # a start-up check holds it to 1–10
        if req.seed is not None:
            payload["seed"] = max(0, min(2147483647, int(req.seed)))
        if req.reply_url:
            payload["replyUrl"] = req.reply_url  # never cut: a start-up check refuses a longer one
            payload["replyRef"] = req.reply_ref
        return path, payload

    def poll(self, job_ids: list[str], accounts: dict[str, str] | None = None) -> dict[str, list[Track]]:
        found = {}
        for job_id in job_ids:
            query = f"?id={quote(job_id, safe='')}" + _account((accounts or {}).get(job_id) or configured_account())
            try:
                data = self._call("GET", f"/v1/riffusion/music/{query}", timeout=STATUS_TIMEOUT)
            except UpstreamInvalid as exc:
                if exc.status == 404:  # the upstream no longer knows the job
                    continue
                raise
            items = track_items(data)
            if items is None:
                raise self._unreadable("GET /v1/riffusion/music/", data)
            tracks = [t for t in (parse_track(i) for i in items) if t]
            if tracks:
                found[job_id] = tracks
        return found

    def upload(self, data: bytes, file_name: str, content_type: str, link: str) -> UploadInfo:
        answer = self._call(
            "POST",
            f"/v1/riffusion/music/upload-audio/?file_name={quote(file_name, safe='')}{_account(configured_account())}",
            data=data,
            headers={"Content-Type": content_type},
            timeout=UPLOAD_TIMEOUT,
        )
        return self._upload_info(answer)

    def upload_status(self, upload_id: str) -> UploadInfo:
        answer = self._call(
            "GET", f"/v1/riffusion/music/upload-audio/?id={quote(upload_id, safe='')}{_account(configured_account())}",
            timeout=STATUS_TIMEOUT,
        )
        return self._upload_info(answer, upload_id)

    def generate_lyrics(self, prompt: str) -> str:
        data = self._call("POST", "/v1/riffusion/music/generate-lyrics", json={"prompt": prompt},
                          timeout=CREATE_TIMEOUT)
        lyrics = _text(data.get("lyrics")) if isinstance(data, dict) else ""
        if not lyrics.strip():
            raise self._unreadable("POST /v1/riffusion/music/generate-lyrics", data)
        return lyrics

    def _upload_info(self, data, known_id: str = "") -> UploadInfo:
        if not isinstance(data, dict):
            raise UpstreamUnavailable("The upstream sent an answer we cannot read.", str(data)[:BODY_KEPT])
        upload_id = _text(data.get("id")) or _text(data.get("job_id")) or known_id
        if not upload_id:
            raise UpstreamUnavailable("The upstream accepted the upload but sent no id.", json.dumps(data)[:BODY_KEPT])
        word = _text(data.get("status")).strip().lower()
        if data.get("is_flagged"):
            state = "flagged"
        elif any(bad in word for bad in ("fail", "error")):
            state = "failed"
        elif word in {"", "pending"}:
            state = "pending"
        else:  # API.md, uploads: usable once its status is anything but pending
            state = "ready"
        return UploadInfo(
            id=upload_id,
            state=state,
            audio_upload_id=_text(data.get("audio_upload_id")) or upload_id,
            lyrics=_text(data.get("transcribed_lyrics")) or _text(data.get("lyrics")),
        )

    def _download_path(self, song_id: str, fmt: str, user_id: str) -> str:
        account = _account(user_id or configured_account())
        return f"/v1/riffusion/music/download/?id={quote(song_id, safe='')}&download_format={fmt}{account}"

    def download(self, song_id: str, fmt: str, dest: Path, *, user_id: str = "", max_bytes: int,
                 deadline: float, allow_private: bool) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            fetch_to_file(self.base_url + self._download_path(song_id, fmt, user_id), dest, max_bytes=max_bytes,
                          deadline=deadline, allow_private=allow_private, headers=headers)
        except FetchError as exc:
            if exc.status is None:  # too large, too slow, unreachable: the fetcher's own words
                raise
            raise _refused_download(exc.status) from None

    def stems(self, song_id: str, *, user_id: str = "") -> list[tuple[str, str]]:
        data = self._call("GET", self._download_path(song_id, "stems", user_id), timeout=STATUS_TIMEOUT)
        listed = data.get("stems") if isinstance(data, dict) else data
        if isinstance(listed, dict):  # {"vocals": {"wav": url, …} or url, …}: another gateway's shape
            listed = [{"name": name, **(links if isinstance(links, dict) else {"url": links})}
                      for name, links in listed.items()]
        found = []
        for stem in listed if isinstance(listed, list) else []:
            if not isinstance(stem, dict):
                continue
            url = next((_text(stem.get(k)) for k in ("wav_url", "wav", "url", "mp3_url", "mp3") if _text(stem.get(k))), "")
            name = re.sub(r"[^a-z0-9_-]+", "-", _text(stem.get("name")).lower()).strip("-")
            if url and name and name[:40] not in {n for n, _ in found}:  # one zip entry per name
                found.append((name[:40], urljoin(self.base_url + "/", url)))
        if not found:
            raise self._unreadable("GET /v1/riffusion/music/download/", data)
        return found


def configured_account() -> str:
    """The gateway account every dialect B call names, when the operator chose one."""
    return settings.RIFFWEB_UPSTREAM_USER_ID


def _account(user_id: str) -> str:
    return f"&user_id={quote(user_id, safe='')}" if user_id else ""


def _refused_download(status: int) -> UpstreamError:
    detail = f"GET /v1/riffusion/music/download/ → HTTP {status}"
    if status == 429:
        return UpstreamBusy("The upstream is busy.", random.uniform(10, 30), detail)
    if status in (401, 403, 596):
        return UpstreamAuthError(_auth_message(status), detail, status)
    if status >= 500:
        return UpstreamUnavailable(f"The upstream failed (HTTP {status}).", detail, status)
    return UpstreamInvalid(f"The upstream refused the download (HTTP {status}).", detail, status)


CLIENTS = {RIFFUSION: RiffusionClient, USEAPI: UseapiClient}


def create_body(dialect: str, req: Request) -> dict:
    """The create call's JSON body as `dialect` sends `req`, in the API's own units (the
    request page shows what was sent). UpstreamInvalid when the dialect cannot send it."""
    return CLIENTS[dialect]._create_payload(req)[1]


def client_for(dialect: str, base_url: str, token: str = "", session=None) -> Client:
    if dialect not in CLIENTS:
        raise ValueError(f"unknown upstream dialect {dialect!r}")
    return CLIENTS[dialect](base_url, token, session)


def configured() -> Client:
    return client_for(settings.RIFFWEB_UPSTREAM_DIALECT, settings.RIFFWEB_UPSTREAM_URL, settings.RIFFWEB_UPSTREAM_TOKEN)
