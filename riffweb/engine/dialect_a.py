"""Dialect A (`/riffusion/...`): generate, topic, feed and upload by URL.

Shapes follow riffweb/upstream/API.md, dialect A. The feed answers a top-level JSON array with
one object per requested id, in request order; an id the engine does not know
comes back as a failed track so a poller stops asking for it; a forgotten one
(`EngineApp.forget_jobs`) is left out of the answer.
"""

from __future__ import annotations

from .composer import Prompt, SongSpec
from .jobs import FAILED, SUCCESS, Track
from .lyrics import timed_lyrics
from .topics import derive
from .web import ApiError, Request, flag, json_response, number, text

MODELS = ("FUZZ-1.0", "FUZZ-1.1", "FUZZ-1.0 Pro", "FUZZ-1.1 Pro")
TRANSFORMS = ("cover", "extend", "inpaint", "swap_vocals", "swap_sound")


def _model(body: dict) -> str:
    model = text(body, "model") or MODELS[1]
    if model not in MODELS:
        raise ApiError.bad(f"model: must be one of {', '.join(MODELS)}")
    return model


def generate(app, request: Request):
    body = request.form()
    _model(body)
    lyrics = text(body, "lyrics")
    tag = text(body, "tag", max_length=1000)
    title = text(body, "title", max_length=200)
    instrumental = flag(body, "instrumental")
    morph = body.get("morph")
    if morph is not None and not isinstance(morph, dict):
        raise ApiError.bad("morph: must be an object")
    seed = number(body, "seed", 0, 2147483647, integer=True)
    duration = number(body, "duration", 0, 240)  # an engine extension: target seconds
    app.moderate(lyrics, tag, title)

    transform, source, params = None, None, {}
    sliders = {"lyrics": 0.7, "sound": 1.0, "weird": 0.2, "variation": 0.5}
    if morph:
        transform, source, params, sliders, duration = _morph(app, morph, sliders, duration)
    app.check_capacity(app.config.user_id)

    spec = SongSpec(
        prompts=[Prompt(tag, strength=sliders["sound"])] if tag else [],
        lyrics=lyrics,
        instrumental=instrumental,
        seed=app.seed_for(body, seed),
        duration=duration or None,
        lyrics_strength=sliders["lyrics"],
        weirdness=sliders["weird"],
        variation=sliders["variation"],
    )
    if not title:
        title = f"{source_title(app, source)} ({transform.replace('_', ' ')})" if source else (tag or "Untitled").title()[:60]
    job = app.create(
        request,
        spec=spec,
        user_id=app.config.user_id,
        title=title,
        tags=tag,
        lyrics=lyrics,
        fail_texts=(lyrics, tag, title),
        transform=transform,
        source=source,
        params=params,
    )
    return json_response({"jobs": [{"id": track_id} for track_id in job.track_ids]})


def source_title(app, source) -> str:
    track = app.jobs.track(source.id) if source.kind == "riff" else None
    return track.title if track else "Upload"


def _morph(app, morph: dict, sliders: dict, duration):
    transform = text(morph, "transform", label="morph.transform")
    if transform not in TRANSFORMS:
        raise ApiError.bad(f"morph.transform: must be one of {', '.join(TRANSFORMS)}")
    riff_id = text(morph, "riff_id", label="morph.riff_id")
    upload_id = text(morph, "audio_upload_id", label="morph.audio_upload_id")
    if not riff_id and not upload_id:
        raise ApiError.bad("morph.riff_id: give riff_id or audio_upload_id")
    source = app.source(riff_id, upload_id, "morph.")
    slider = lambda name, default: number(morph, name, 0, 1, default=default, label=f"morph.{name}")  # noqa: E731
    sliders = {
        "lyrics": slider("normalized_lyrics_strength", sliders["lyrics"]),
        "sound": slider("normalized_sound_prompt_strength", 0.7),
        "weird": slider("normalized_weirdness", sliders["weird"]),
        "variation": slider("normalized_variation_strength", sliders["variation"]),
    }
    cover_strength = slider("normalized_cover_strength", 0.7)
    morph_duration = number(morph, "duration", 0, 240, default=0, label="morph.duration")
    params: dict = {"strength": cover_strength}
    if transform == "extend":
        at = number(morph, "crop_end_at", 0, 1e9, required=True, label="morph.crop_end_at")
        if not 0 < at < source.duration:
            raise ApiError.bad(f"morph.crop_end_at: must be inside the source (0 to {source.duration:.1f} s)")
        params["at"] = at
    if transform == "inpaint":
        start = number(morph, "replace_start_at", 0, 1e9, required=True, label="morph.replace_start_at")
        end = number(morph, "replace_end_at", 0, 1e9, required=True, label="morph.replace_end_at")
        if start >= end:
            raise ApiError.bad("morph.replace_start_at: must be before morph.replace_end_at")
        if end > source.duration:
            raise ApiError.bad(f"morph.replace_end_at: must be inside the source (up to {source.duration:.1f} s)")
        params.update(start=start, end=end)
    return transform, source, params, sliders, morph_duration or duration


def topic(app, request: Request):
    body = request.form()
    _model(body)
    theme = text(body, "topic", required=True, max_length=1000)
    instrumental = flag(body, "instrumental")
    app.moderate(theme)
    app.check_capacity(app.config.user_id)
    title, lyrics, tag = derive(theme)
    spec = SongSpec(prompts=[Prompt(tag)], lyrics=lyrics, instrumental=instrumental, seed=app.seed_for(body, None))
    job = app.create(
        request,
        spec=spec,
        user_id=app.config.user_id,
        title=title,
        tags=tag,
        lyrics=lyrics,
        fail_texts=(theme,),
    )
    return json_response({"jobs": [{"id": track_id} for track_id in job.track_ids]})


def feed(app, request: Request, ids: str):
    wanted = [i for i in ids.split(",") if i.strip()]
    if not wanted:
        raise ApiError.bad("ids: give one or more track ids joined by commas")
    limit = app.config.max_feed_ids
    if limit is not None and len(wanted) > limit:
        if app.config.feed_overflow == "414":
            raise ApiError(414, {"detail": "Request-URI Too Long"})
        if app.config.feed_overflow == "400":
            raise ApiError.bad(f"ids: at most {limit} per call")
        wanted = wanted[:limit]  # "truncate": a quiet answer with fewer tracks than asked
    # A forgotten track is left out, as a service that dropped a job does; an id that was
    # never ours answers failed, so a poller stops asking.
    return json_response(
        [track_object(app, request, i) for i in (w.strip() for w in wanted) if i not in app.jobs.forgotten]
    )


def track_object(app, request: Request, track_id: str) -> dict:
    track: Track | None = app.jobs.track(track_id)
    if track is None:
        return {"id": track_id, "status": FAILED, "process": 0, "error": "Unknown track id", "generations": []}
    done = track.status == SUCCESS
    base = app.jobs.jobs[track.job_id].base_url or request.base_url
    audio_url = f"{base}/audio/{track.id}.mp3"
    preview_url = app.preview_url(track, base)
    if done:
        generations = [{"id": track.id, "audio_url": audio_url, "duration": round(track.duration, 3)}]
    elif preview_url:  # the track so far, before success
        generations = [{"id": track.id, "audio_url": preview_url, "duration": None}]
    else:
        generations = []
    out = {
        "id": track.id,
        "status": track.status,
        "process": app.jobs.progress(track),
        "title": track.title,
        "tag": track.tags,
        "lyrics": track.lyrics,
        "duration": round(track.duration, 3) if done else None,
        "created_at": track.created_at,
        "transform": track.transform,
        "parent_riff_id": track.parent_riff_id,
        "audio_upload_id": track.audio_upload_id,
        "metadata": track.music if done else {},
        "generations": generations,
        "image_url": app.image_url(track, base),
    }
    if done:
        out["audio_url"] = audio_url
        # Not in dialect A's documentation: an extra a client may read or ignore.
        timed = timed_lyrics(track, app.config.timed_lyrics, "")
        if timed is not None:
            out["lyrics_timestamped"] = timed
    if track.status == FAILED:
        out["error"] = track.error
    return out


def upload(app, request: Request):
    body = request.form()
    data = app.fetch_trusted(body.get("url"), "url")
    name = body["url"].rsplit("/", 1)[-1]
    item = app.add_upload(data, name, "url")
    return json_response({"id": item.id})
