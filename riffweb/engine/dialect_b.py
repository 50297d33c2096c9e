"""Dialect B (`/v1/riffusion/music/...`): compose, prompt, status, upload, download.

Shapes follow riffweb/upstream/API.md, dialect B. A create answers {"job_id", "user_id"}; the
job's songs (two, or `songs_per_job`) are listed by `GET /v1/riffusion/music/?id=<job_id>` (a
song id works too).

Callbacks: with `replyUrl`, every status change of a job's songs (queued, processing,
completed or failed) POSTs this JSON to replyUrl, from a background thread with a
3 s timeout, and a dead target is only counted in the stats:

    {"replyRef": "<as sent, or null>", "job_id": "<job id>", "songs": [<song>, <song>]}

where each song is exactly the object `GET /v1/riffusion/music/?id=` returns.
"""

from __future__ import annotations

import time

from .composer import Prompt, SongSpec
from .jobs import FAILED, PROCESS, QUEUED, SUCCESS, Job, Track
from .lyrics import timed_lyrics, write_lyrics
from .store import STEM_NAMES
from .topics import derive
from .web import ApiError, Request, Response, flag, iso_time, json_response, number, text

MODELS = ("FUZZ-0.8",)
TRANSFORMS = ("cover", "extend", "inpaint")
# While a preview can be heard a song is "streaming", its download_url the track so far.
STATUS_WORDS = {QUEUED: "queued", PROCESS: "processing", SUCCESS: "completed", FAILED: "failed"}
UPLOAD_TYPES = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
}
MAX_UPLOAD = 50 * 1024 * 1024


def _common(body: dict) -> dict:
    model = text(body, "model", max_length=100)
    if model and model not in MODELS:
        raise ApiError.bad(f"model: must be one of {', '.join(MODELS)}")
    reply_url = text(body, "replyUrl", max_length=1024)
    if reply_url and not reply_url.startswith(("http://", "https://")):
        raise ApiError.bad("replyUrl: must be an http(s) URL")
    return {
        "reply_url": reply_url or None,
        "reply_ref": text(body, "replyRef", max_length=1024) or None,
        "max_jobs": number(body, "maxJobs", 1, 10, integer=True),
        "user_id": text(body, "user_id", max_length=200),
        "instrumental": flag(body, "instrumental"),
    }


def create_compose(app, request: Request):
    body = request.form()
    common = _common(body)
    lyrics = text(body, "lyrics")
    title = text(body, "title", max_length=200)
    prompts = []
    for i in (1, 2, 3):
        prompt = text(body, f"prompt_{i}", required=i == 1, max_length=1000)
        strength = number(body, f"prompt_{i}_strength", 20, 100, default=50)
        start = number(body, f"prompt_{i}_start", 0, 100, default=0)
        end = number(body, f"prompt_{i}_end", 0, 100, default=100)
        if start >= end:
            raise ApiError.bad(f"prompt_{i}_start: must be before prompt_{i}_end")
        if prompt:
            prompts.append(Prompt(prompt, strength / 100, start / 100, end / 100))
    lyrics_strength = number(body, "lyrics_strength", 0, 100, default=70) / 100
    weirdness = number(body, "lyrics_weirdness", 0, 100, default=20) / 100
    cover_variation = number(body, "cover_variation", 0, 100, default=50) / 100
    seed = number(body, "seed", 0, 2147483647, integer=True)
    duration = number(body, "duration", 0, 240)  # an engine extension: target seconds
    app.moderate(lyrics, title, *(p.text for p in prompts))

    transform = text(body, "transform") or None
    riff_id, upload_id = text(body, "riff_id"), text(body, "audio_upload_id")
    if transform is not None and transform not in TRANSFORMS:
        raise ApiError.bad(f"transform: must be one of {', '.join(TRANSFORMS)}")
    if (riff_id or upload_id) and transform is None:
        raise ApiError.bad("transform: required with riff_id or audio_upload_id")
    if transform and not (riff_id or upload_id):
        raise ApiError.bad("riff_id: give riff_id or audio_upload_id for a transform")
    source = app.source(riff_id, upload_id, "") if transform else None
    params: dict = {"strength": 1.0 - cover_variation}
    if transform == "extend":
        at = number(body, "extend_after_seconds", 0, 1e9, required=True)
        if not 0 < at < source.duration:
            raise ApiError.bad(f"extend_after_seconds: must be inside the source (0 to {source.duration:.1f} s)")
        params["at"] = at
    if transform == "inpaint":
        start = number(body, "replace_start_seconds", 0, 1e9, required=True)
        end = number(body, "replace_end_seconds", 0, 1e9, required=True)
        if start >= end:
            raise ApiError.bad("replace_start_seconds: must be before replace_end_seconds")
        if end > source.duration:
            raise ApiError.bad(f"replace_end_seconds: must be inside the source (up to {source.duration:.1f} s)")
        params.update(start=start, end=end)

    user_id = common["user_id"] or app.config.user_id
    app.check_capacity(user_id, common["max_jobs"], accounts=True)
    spec = SongSpec(
        prompts=prompts,
        lyrics=lyrics,
        instrumental=common["instrumental"],
        seed=app.seed_for(body, seed),
        duration=duration or None,
        lyrics_strength=lyrics_strength,
        weirdness=weirdness,
    )
    sound = ", ".join(p.text for p in prompts)
    job = app.create(
        request,
        spec=spec,
        user_id=user_id,
        title=title or prompts[0].text.title()[:60],
        tags=sound,
        lyrics=lyrics,
        fail_texts=(lyrics, title, sound),
        transform=transform,
        source=source,
        params=params,
        reply_url=common["reply_url"],
        reply_ref=common["reply_ref"],
        songs=app.config.songs_per_job,
    )
    return json_response({"job_id": job.id, "user_id": user_id})


def create_prompt(app, request: Request):
    body = request.form()
    common = _common(body)
    theme = text(body, "prompt", required=True, max_length=1000)
    seed = number(body, "seed", 0, 2147483647, integer=True)
    app.moderate(theme)
    user_id = common["user_id"] or app.config.user_id
    app.check_capacity(user_id, common["max_jobs"], accounts=True)
    title, lyrics, tag = derive(theme)
    spec = SongSpec(prompts=[Prompt(tag)], lyrics=lyrics, instrumental=common["instrumental"], seed=app.seed_for(body, seed))
    job = app.create(
        request,
        spec=spec,
        user_id=user_id,
        title=title,
        tags=tag,
        lyrics=lyrics,
        fail_texts=(theme,),
        reply_url=common["reply_url"],
        reply_ref=common["reply_ref"],
        songs=app.config.songs_per_job,
    )
    return json_response({"job_id": job.id, "user_id": user_id})


def generate_lyrics(app, request: Request):
    """Lyrics written from a prompt, at once: `{"prompt", "user_id"?}` → `{"title", "lyrics"}`."""
    body = request.form()
    prompt = text(body, "prompt", required=True, max_length=1000)
    app.moderate(prompt)
    title, lyrics = write_lyrics(prompt)
    return json_response({"title": title, "lyrics": lyrics, "prompt": prompt})


def song_object(app, track: Track, base_url: str) -> dict:
    done = track.status == SUCCESS
    preview_url = app.preview_url(track, base_url)
    out = {
        "id": track.id,
        "job_id": track.job_id,
        "title": track.title,
        "lyrics": track.lyrics or "[Instrumental]",
        "sound": track.tags,
        "duration_s": round(track.duration, 3) if done else None,
        "status": "streaming" if preview_url else STATUS_WORDS[track.status],
        "progress": app.jobs.progress(track),
        "download_url": f"{base_url}/audio/{track.id}.mp3" if done else preview_url,
        "image_url": app.image_url(track, base_url),
        "share_url": None,
        "transform": track.transform,
        "parent_riff_id": track.parent_riff_id,
        "audio_upload_id": track.audio_upload_id,
        "simple_waveform": track.waveform if done else [],
        "metadata": track.music if done else {},
        "created_at": iso_time(track.created_at),
    }
    timed = timed_lyrics(track, app.config.timed_lyrics, "_s") if done else None
    if timed is not None:
        out["lyrics_timestamped"] = timed
    if track.status == FAILED:
        out["error"] = track.error
    return out


def job_songs(app, job: Job) -> list[dict]:
    return [song_object(app, t, job.base_url) for t in app.jobs.job_tracks(job.id)]


def _owner(app, track: Track) -> str:
    """The account whose job made the track."""
    with app.jobs.lock:
        job = app.jobs.jobs.get(track.job_id)
    return job.user_id if job else ""


def music(app, request: Request):
    wanted = request.query.get("id", "").strip()
    if wanted:
        tracks = app.jobs.job_tracks(wanted)
        if not tracks:
            track = app.jobs.track(wanted)
            if track is None and app.config.unknown_job == "empty":
                return json_response([])
            if track is None:
                raise ApiError.not_found("id: no job or song with this id")
            tracks = [track]
        app.check_account(request, _owner(app, tracks[0]))
        return json_response([song_object(app, t, request.base_url) for t in tracks])
    offset = number(request.query, "offset", 0, 1e9, default=0, integer=True)
    limit = number(request.query, "limit", 1, 100, default=10, integer=True)
    with app.jobs.lock:
        newest = sorted(app.jobs.tracks.values(), key=lambda t: t.created_at, reverse=True)
    return json_response([song_object(app, t, request.base_url) for t in newest[offset : offset + limit]])


def upload(app, request: Request):
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in UPLOAD_TYPES:
        raise ApiError.bad("Content-Type: must be audio/mpeg, audio/mp4, audio/x-m4a, audio/wav or audio/wave")
    if not request.body:
        raise ApiError.bad("body: the raw audio bytes are required")
    if len(request.body) > MAX_UPLOAD:
        raise ApiError.bad("body: larger than 50 MB")
    name = request.query.get("file_name", "") or f"upload.{UPLOAD_TYPES[ctype]}"
    item = app.add_upload(request.body, name, "body", request.query.get("user_id", ""))
    return json_response(
        {
            "id": f"{item.id}:{item.transcription_id}",
            "audio_upload_id": item.id,
            "transcription_job_id": item.transcription_id,
            "is_flagged": False,
        }
    )


def upload_status(app, request: Request):
    wanted = request.query.get("id", "").strip()
    if not wanted:
        raise ApiError.bad("id: required")
    key = wanted.split(":")[0]
    with app.jobs.lock:
        item = app.jobs.uploads.get(key) or next(
            (u for u in app.jobs.uploads.values() if u.transcription_id == key), None
        )
    if item is None:
        raise ApiError.not_found("id: no upload with this id")
    app.check_account(request, item.user_id)
    return json_response(
        {
            "id": f"{item.id}:{item.transcription_id}",
            "audio_upload_id": item.id,
            "status": app.config.upload_ready_status if time.time() >= item.ready_at else "pending",
            "is_flagged": False,
            "lyrics": "",
            "transcribed_lyrics": "",
            "file_name": item.file_name,
            "duration_s": round(item.duration, 3),
        }
    )


def download(app, request: Request):
    wanted = request.query.get("id", "").strip()
    fmt = request.query.get("download_format", "mp3")
    if not wanted:
        raise ApiError.bad("id: required")
    if fmt not in ("mp3", "wav", "stems"):
        raise ApiError.bad("download_format: must be mp3, wav or stems")
    track = app.jobs.track(wanted)
    if track is None:
        raise ApiError.not_found("id: no song with this id")
    app.check_account(request, _owner(app, track))
    if track.status != SUCCESS:
        raise ApiError.bad("id: the song is not finished")
    app.count("audio")
    if fmt == "stems":
        base = f"{request.base_url}/audio/{track.id}"
        return json_response(
            {
                "id": track.id,
                "stems": [
                    {"name": stem, "wav_url": f"{base}/{stem}.wav", "mp3_url": f"{base}/{stem}.mp3"}
                    for stem in STEM_NAMES
                ],
            }
        )
    path = app.store.file(track.id, fmt)
    ctype = "audio/mpeg" if fmt == "mp3" else "audio/wav"
    return Response(200, path.read_bytes(), ctype, {"Content-Disposition": f'attachment; filename="{track.id}.{fmt}"'})

