"""What the studio's pages and their forms share: the mode tabs, the forms' context, reuse links.

The pages (views.py) and the form posts (mode_views.py) both render the project, song and
upload templates; the context those templates need is built here, once.
"""

import uuid

from django.conf import settings
from django.http import Http404
from django.urls import reverse

from riffweb.review import feeds
from riffweb.studio import access
from riffweb.studio.family import WITH_SOURCE, family_tree, visible_source
from riffweb.playlists.models import ListenPosition
from riffweb.studio.models import SongFile, Transform, Upload
from riffweb.takes.models import with_tally
from riffweb.studio.modes import (
    DESCRIPTIONS, FORMS, GENERATION_MODES, PROMPT_COUNT, TRANSFORM_MODES, SourceTransformForm, UploadForm,
    initial_from, upload_unavailable_reason,
)
from riffweb.upstream import client, dialects
from riffweb.upstream.models import UpstreamState
from riffweb.upstream.submit import build_request

UPLOAD = "upload"
# The create call's fields a musician sets with a slider, as the request page names them; the
# values are shown as sent (dialect A: 0–1, dialect B: percent).
SENT_LABELS = {
    "normalized_lyrics_strength": "Lyrics strength",
    "normalized_sound_prompt_strength": "Sound prompt strength",
    "normalized_weirdness": "Weirdness",
    "normalized_cover_strength": "Cover strength",
    "normalized_variation_strength": "Variation strength",
    "lyrics_strength": "Lyrics strength",
    "lyrics_weirdness": "Weirdness",
    "cover_variation": "Cover variation (how far the cover may wander)",
}


def tabs(modes) -> list[dict]:
    labels = dict(Transform.Mode.choices) | {UPLOAD: "Upload"}
    return [
        {"mode": m, "label": labels[m],
         "reason": upload_unavailable_reason() if m == UPLOAD else dialects.reason(m)}
        for m in modes
    ]


def _reused(request) -> dict:
    """Initial data from ?reuse=<request id>, when the user may see that request."""
    pk = request.GET.get("reuse", "")
    if not pk.isascii() or not pk.isdigit():
        return {}
    return initial_from(access.get_transform_for(request.user, int(pk)))


def _refined(request) -> dict:
    """Initial data from ?refine=<song id>: what the music service wrote for an inspiration song
    (its title and lyrics), to refine in Professional mode."""
    pk = request.GET.get("refine", "")
    if not pk.isascii() or not pk.isdigit():
        return {}
    song = access.get_song_for(request.user, int(pk))
    written = {"title": song.title, "lyrics": song.lyrics, "tags": song.tags,
               "instrumental": song.transform.instrumental, "model": song.transform.model}
    return {name: value for name, value in written.items() if value}


def _paletted(request, project) -> dict:
    """Initial data from ?palette=<id>: one of this project's palettes, applied with one click."""
    pk = request.GET.get("palette", "")
    if not pk.isascii() or not pk.isdigit():
        return {}
    palette = access.get_palette_for(request.user, int(pk))
    if palette.project_id != project.pk:
        raise Http404("No such palette in this project.")
    return palette.form_initial()


def palettes_context(request, project, page_url: str, can_edit: bool) -> dict:
    """The palettes offered beside a mode form (to editors, who are the ones who send it)."""
    if not can_edit:
        return {"palettes": None}
    return {"palettes": list(project.palettes.all()), "palette_next": page_url}


def _picked_range(request) -> dict:
    """Initial inpaint range from ?replace_start=&replace_end= (the lyric lines a musician
    picked, or a comment's region), or extend point from ?extend_at= (a comment's moment);
    the form still checks it against the song."""
    picked = {}
    if "extend_at" in request.GET:
        try:
            at = float(request.GET["extend_at"])
        except ValueError:
            return {}
        return {"extend_at": round(at, 2)} if 0 <= at < 1e6 else {}
    for name in ("replace_start", "replace_end"):
        try:
            value = float(request.GET.get(name, ""))
        except ValueError:
            return {}
        if not 0 <= value < 1e6:
            return {}
        picked[name] = round(value, 2)
    return picked


def refine_url(song) -> str:
    """Professional mode, prefilled with what the service wrote ("" unless an inspiration song is done)."""
    if song.transform.mode != Transform.Mode.INSPIRATION or not song.is_playable:
        return ""
    url = reverse("studio:project_detail", args=[song.project_id])
    return f"{url}?mode={Transform.Mode.PROFESSIONAL}&refine={song.pk}#transform-form"


def new_key() -> dict:
    return {"idempotency_key": uuid.uuid4()}


def cards_context(songs, editable: set[int]) -> dict:
    """What the song cards need: whether to poll, and the service's state for their notices."""
    polling = any(not song.is_finished for song in songs)
    # Only unfinished cards say the service is unreachable: no query for a page of finished songs.
    return {"polling": polling, "unreachable": polling and UpstreamState.is_unreachable(), "editable": editable}


def generation_context(request, project, membership, mode=None, form=None, created=None) -> dict:
    mode = mode or request.GET.get("mode") or Transform.Mode.PROFESSIONAL
    if mode not in FORMS and mode != UPLOAD:
        mode = Transform.Mode.PROFESSIONAL
    if form is None and mode == UPLOAD:
        form = UploadForm()
    elif form is None:
        initial = _reused(request) | _refined(request) | _paletted(request, project) | new_key()
        form = FORMS[mode](dialect=settings.RIFFWEB_UPSTREAM_DIALECT, initial=initial)
    mode_tabs = tabs([*GENERATION_MODES, UPLOAD])
    if mode == UPLOAD:
        action = reverse("studio:upload_create", args=[project.pk])
    elif mode == Transform.Mode.PROFESSIONAL:
        action = reverse("studio:professional_create", args=[project.pk])
    else:
        action = reverse("studio:generate", args=[project.pk, mode])
    return palettes_context(request, project, project.get_absolute_url(), membership.can_edit) | {
        "project": project, "membership": membership, "mode": mode, "form": form, "created": created,
        "action": action, "tabs": mode_tabs, "tabs_label": "Modes",
        "mode_reason": next(t["reason"] for t in mode_tabs if t["mode"] == mode),
        "mode_description": DESCRIPTIONS.get(mode, "An mp3, m4a or wav of your own to transform."),
    }


def source_ready_reason(source) -> str:
    if isinstance(source, Upload):
        if source.status != Upload.Status.READY:
            return f"This upload is not ready to transform ({source.get_status_display().lower()})."
        return ""
    if not source.is_playable:
        return "This song has not finished, so it cannot be transformed yet."
    if source.transform.mode == Transform.Mode.ARRANGEMENT and not source.upstream_id:
        return mix_reason(source.transform)
    return ""


def mix_reason(render: Transform) -> str:
    """Why a rendered arrangement cannot be transformed yet: the music service must have its mix."""
    mix = render.mix_upload if render.mix_upload_id else None
    if mix is None:
        return "This mix has not been sent to the music service; render the arrangement again."
    if mix.status in {Upload.Status.PENDING, Upload.Status.PROCESSING}:
        return "This mix is on its way to the music service; reload the page in a moment to transform it."
    if mix.status != Upload.Status.READY:
        return f"The music service did not take this mix: {mix.error or mix.get_status_display().lower()}"
    return ""


def source_context(request, source, project, mode=None, form=None, created=None) -> dict:
    mode = mode or request.GET.get("mode") or Transform.Mode.COVER
    if mode not in TRANSFORM_MODES:
        mode = Transform.Mode.COVER
    if form is None:
        form = SourceTransformForm(
            mode=mode, source=source, dialect=settings.RIFFWEB_UPSTREAM_DIALECT,
            initial=_reused(request) | _picked_range(request) | _paletted(request, project) | new_key(),
        )
    mode_tabs = tabs(TRANSFORM_MODES)
    name = "studio:upload_transform" if isinstance(source, Upload) else "studio:song_transform"
    can_edit = access.role_may(source.role, "edit")  # the getters load the source with the user's role
    return palettes_context(request, project, source.get_absolute_url(), can_edit) | {
        "source": source, "project": project, "mode": mode, "form": form, "created": created,
        "tabs": mode_tabs, "tabs_label": "Transforms",
        "mode_reason": next(t["reason"] for t in mode_tabs if t["mode"] == mode),
        "mode_description": DESCRIPTIONS[mode], "source_reason": source_ready_reason(source),
        "can_edit": can_edit,
        "action": reverse(name, args=[source.pk, mode]),
        "source_kind": "upload" if isinstance(source, Upload) else "song",
        "answering": feeds.answering(request, source),
    }


def song_page_context(request, song) -> dict:
    """A song's page: its variants side by side as players, its request, its family."""
    # Only what the user may see: a variant moved to another project stays out of this page.
    variants = list(with_tally(access.songs_for(request.user), request.user)
                    .annotate(resume_at=ListenPosition.objects.seconds_in_song(request.user))
                    .filter(transform=song.transform_id, deleted_at__isnull=True)
                    .select_related(*WITH_SOURCE).order_by("variant"))
    context = source_context(request, song, song.project)
    editable = {song.project_id} if context["can_edit"] else set()
    # The song as loaded among its variants comes with its request's source: no query for it.
    source = visible_source(request.user, next(v for v in variants if v.pk == song.pk))
    return context | cards_context(variants, editable) | {
        "song": song, "variants": variants,
        "siblings": [v for v in variants if v.pk != song.pk],
        "family": family_tree(request.user, song, source), "request_source": source,
        "sent_parameters": sent_parameters(song.transform, source), "refine_url": refine_url(song),
        **song_files_context(song),
        "resume": next((ListenPosition(seconds=v.resume_at) for v in variants if v.pk == song.pk and v.resume_at), None),
        "playlists": list(song.project.playlists.all()) if context["can_edit"] else [],
        # "Reuse settings" opens the source's page: only when the user may see it.
        "reuse_url": reuse_url(song.transform) if source or song.transform.mode in GENERATION_MODES else "",
        "answers": feeds.answered(song.transform),
    }


def song_files_context(song) -> dict:
    """The song page's "Download WAV" and "Download stems (zip)": each greyed with the reason
    where the music service has no such download, else its kept file's state; `preparing`
    keeps the part polling until every asked-for file is ready or failed."""
    offers = [
        {"kind": kind, "label": label, "reason": dialects.reason(f"download_{kind}") or _file_reason(song)}
        for kind, label in (("wav", "WAV"), ("stems", "stems (zip)"))
    ]
    # No query where nothing can be asked for (dialect A, or no audio yet).
    kept = {f.kind: f for f in song.files.all()} if any(not o["reason"] for o in offers) else {}
    for offer in offers:
        offer["file"] = kept.get(offer["kind"])
    return {"file_offers": offers, "files_preparing": any(
        f.status == SongFile.Status.PREPARING for f in kept.values())}


def _file_reason(song) -> str:
    if not song.is_playable:
        return "The song has no audio yet."
    if song.transform.mode == Transform.Mode.ARRANGEMENT:  # the service has no such file of it
        return "riffweb mixed this song itself; its download is the only file of it."
    return ""


def sent_parameters(transform: Transform, source=None) -> list[dict]:
    """The request's sliders and sound prompts exactly as its create call carries them, in the
    API's own units for the request's dialect ([] when that dialect cannot send it). `source`:
    the request's source song or upload when the page has already loaded it."""
    if transform.mode == Transform.Mode.ARRANGEMENT:  # mixed here: no create call to show
        return []
    if isinstance(source, Upload):
        transform.source_upload = source
    elif source is not None:
        transform.source_song = source
    try:
        # A request stored before rows named their dialect went to the one configured now.
        body = client.create_body(transform.dialect or settings.RIFFWEB_UPSTREAM_DIALECT, build_request(transform))
    except client.UpstreamInvalid:
        return []
    fields = body | body.get("morph", {})
    rows = [{"key": key, "label": label, "value": fields[key]} for key, label in SENT_LABELS.items() if key in fields]
    for n in range(1, PROMPT_COUNT + 1):
        if fields.get(f"prompt_{n}"):
            rows.append({
                "key": f"prompt_{n}", "label": f"Sound prompt {n}",
                "value": f"“{fields[f'prompt_{n}']}”, strength {fields[f'prompt_{n}_strength']}, "
                         f"over {fields[f'prompt_{n}_start']}–{fields[f'prompt_{n}_end']} % of the song",
            })
    return rows


def reuse_url(transform: Transform) -> str:
    """The form that made this request, prefilled with its settings ("" when its source is gone)."""
    if transform.mode == Transform.Mode.ARRANGEMENT:
        return transform.arrangement.get_absolute_url() if transform.arrangement_id else ""
    if transform.mode in GENERATION_MODES:
        url = reverse("studio:project_detail", args=[transform.project_id])
    elif transform.source_song_id:
        url = reverse("studio:song_detail", args=[transform.source_song_id])
    elif transform.source_upload_id:
        url = reverse("studio:upload_detail", args=[transform.source_upload_id])
    else:
        return ""
    return f"{url}?mode={transform.mode}&reuse={transform.pk}#transform-form"
