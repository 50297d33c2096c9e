"""The forms of every creation mode: inspiration, compose, the five transforms, and uploads.

Professional mode's form lives in forms.py; the others share its base (TransformForm, which
carries the idempotency key and the dialect's models). Every strength is 0–1 in steps of 0.05
here and on the row; the upstream client converts at the boundary. Positions in a song are
seconds (extend, inpaint); compose prompt ranges are 0–1 of the song, since that song does not
exist yet.
"""

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from riffweb import audio
from riffweb.studio.forms import LyricsMixin, ProfessionalForm, TransformForm
from riffweb.studio.models import Transform, Upload
from riffweb.upstream import dialects

Mode = Transform.Mode
TRANSFORM_MODES = [Mode.COVER, Mode.EXTEND, Mode.INPAINT, Mode.SWAP_VOCALS, Mode.SWAP_SOUND]
GENERATION_MODES = [Mode.PROFESSIONAL, Mode.INSPIRATION, Mode.COMPOSE]
SLIDERS = ["lyrics_strength", "sound_prompt_strength", "weirdness", "cover_strength", "variation_strength"]
MIN_INPAINT_SPAN = 1.0  # seconds: shorter spans leave the model nothing to write
PROMPT_COUNT = 3

DESCRIPTIONS = {
    Mode.PROFESSIONAL: "Title, lyrics and style tags.",
    Mode.INSPIRATION: "Just a theme: the model writes the words and picks the style.",
    Mode.COMPOSE: "Lyrics and up to three sound prompts, each over its own part of the song.",
    Mode.COVER: "Keeps the style; replaces the lyrics and vocals.",
    Mode.EXTEND: "Continues the song from a point: click the waveform to set it.",
    Mode.INPAINT: "Rewrites one part of the song: drag across the waveform to choose it.",
    Mode.SWAP_VOCALS: "Keeps the instrumental; replaces only the vocals.",
    Mode.SWAP_SOUND: "Keeps the vocals; replaces only the instrumental.",
}
# The transforms that can make an instrumental (the create call takes `instrumental`); the
# swaps keep one half of the source, so "no vocals" means nothing there.
INSTRUMENTAL_MODES = {Mode.COVER, Mode.EXTEND, Mode.INPAINT}
# Which words a transform takes besides the sliders.
TRANSFORM_TEXT = {
    Mode.COVER: ["title", "lyrics", "tags"],
    Mode.EXTEND: ["title", "lyrics", "tags"],
    Mode.INPAINT: ["title", "lyrics", "tags"],
    Mode.SWAP_VOCALS: ["title", "lyrics"],
    Mode.SWAP_SOUND: ["title", "tags"],
}


def slider(label: str, help_text: str = "", low: float = 0) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        min_value=low,
        max_value=1,
        step_size=0.05,
        initial=0.5,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"type": "range", "min": low, "max": 1, "step": 0.05}),
    )


def seconds(label: str, help_text: str = "") -> forms.FloatField:
    return forms.FloatField(
        label=label, min_value=0, help_text=help_text,
        widget=forms.NumberInput(attrs={"step": 0.1, "min": 0}),
    )


class InspirationForm(TransformForm):
    topic = forms.CharField(
        label="Theme", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the song is about, e.g. a lighthouse keeper who learns to dance",
    )

    class Meta:
        model = Transform
        fields = ["topic", "seed", "model", "instrumental"]
        labels = {"instrumental": "Instrumental (no vocals)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disable_unavailable(["seed"])


class ComposeForm(LyricsMixin, TransformForm):
    """Lyrics plus up to three sound prompts, each with a strength and a part of the song."""

    lyrics = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Mark sections with [Verse], [Chorus], [Bridge]… Leave empty for an instrumental.",
    )
    lyrics_strength = slider("Lyrics strength", "How closely the vocals follow your words.")
    weirdness = slider("Weirdness", "How far the model may stray from the obvious.")

    class Meta:
        model = Transform
        fields = ["title", "lyrics", "lyrics_strength", "weirdness", "seed", "model", "instrumental"]
        labels = {"instrumental": "Instrumental (no vocals)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = self.dialect.prompt_strength_range
        for n in range(1, PROMPT_COUNT + 1):
            self.fields[f"prompt_{n}"] = forms.CharField(
                label=f"Sound prompt {n}", max_length=300, required=n == 1,
                help_text="e.g. warm analog synths" if n == 1 else "",
            )
            self.fields[f"prompt_{n}_strength"] = slider(
                f"Prompt {n} strength", f"This music service takes {low}–{high} %.", low=low / 100,
            )
            for end, value in (("start", 0.0), ("end", 1.0)):
                self.fields[f"prompt_{n}_{end}"] = forms.FloatField(
                    label=f"Prompt {n} {end}", min_value=0, max_value=1, initial=value,
                    widget=forms.NumberInput(attrs={"type": "range", "min": 0, "max": 1, "step": 0.01}),
                )
        self.disable_unavailable(["seed", "lyrics_strength", "weirdness"])

    def prompt_rows(self):
        """For the template: each prompt's bound fields together."""
        return [
            {key: self[f"prompt_{n}{suffix}"] for key, suffix in
             (("text", ""), ("strength", "_strength"), ("start", "_start"), ("end", "_end"))}
            | {"n": n}
            for n in range(1, PROMPT_COUNT + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        prompts = []
        for n in range(1, PROMPT_COUNT + 1):
            text = (cleaned.get(f"prompt_{n}") or "").strip()
            start, end = cleaned.get(f"prompt_{n}_start"), cleaned.get(f"prompt_{n}_end")
            if start is None or end is None:
                continue  # the field already carries its message
            if not start < end:
                self.add_error(f"prompt_{n}_end", "The prompt's part must end after it starts.")
            elif text:
                prompts.append({"text": text, "strength": cleaned.get(f"prompt_{n}_strength"),
                                "start": start, "end": end})
        cleaned["prompts"] = prompts
        return cleaned

    def save(self, commit=True):
        self.instance.prompts = self.cleaned_data["prompts"]
        return super().save(commit)


class SourceTransformForm(LyricsMixin, TransformForm):
    """The five transforms of a song or an upload; each shows the fields its mode uses."""

    lyrics = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="New lyrics; leave empty to keep the source's.",
    )
    lyrics_strength = slider("Lyrics strength", "How closely the vocals follow the lyrics.")
    sound_prompt_strength = slider("Sound prompt strength", "How strongly the style tags steer the sound.")
    weirdness = slider("Weirdness", "How far the model may stray from the obvious.")
    cover_strength = slider("Cover strength", "How faithfully the result follows the source.")
    variation_strength = slider("Variation strength", "How different the two variants may be.")
    extend_at = seconds("Extend from (seconds)", "Where the continuation starts: click the waveform.")
    replace_start = seconds("Replace from (seconds)", "Drag across the waveform to choose the part.")
    replace_end = seconds("Replace until (seconds)")

    class Meta:
        model = Transform
        fields = ["title", "lyrics", "tags", *SLIDERS, "extend_at", "replace_start", "replace_end", "seed", "model",
                  "instrumental"]
        labels = {"tags": "Style tags", "title": "New title", "instrumental": "Instrumental (no vocals)"}

    def __init__(self, *args, mode: str, source, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode, self.source, duration = mode, source, source.duration
        self.duration = duration
        keep = {"idempotency_key", "palette", "model", "seed", *TRANSFORM_TEXT[mode], *SLIDERS}
        keep |= {Mode.EXTEND: {"extend_at"}, Mode.INPAINT: {"replace_start", "replace_end"}}.get(mode, set())
        if mode != Mode.COVER:  # how faithfully a cover follows its source: nothing else has one
            keep.discard("cover_strength")
        if mode in INSTRUMENTAL_MODES:
            keep.add("instrumental")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name in ("extend_at", "replace_start", "replace_end"):
            if name in self.fields:
                self.fields[name].required = True
                if duration:
                    self.fields[name].widget.attrs["max"] = round(duration, 2)
        self.disable_unavailable([*SLIDERS, "seed"])
        if "tags" in self.fields and self.dialect.needs_style and not source_style(source):
            self.fields["tags"].required = True
            self.fields["tags"].help_text = ("The source has no style on record, and this music service "
                                             "needs one: describe the sound you want.")

    def clean(self):
        cleaned = super().clean()
        duration = self.duration or 0
        at = cleaned.get("extend_at")
        if self.mode == Mode.EXTEND and at is not None and not 0 < at < duration:
            self.add_error("extend_at", f"Choose a point inside the song: between 0 and {duration:.1f} s.")
        start, end = cleaned.get("replace_start"), cleaned.get("replace_end")
        if self.mode == Mode.INPAINT and start is not None and end is not None:
            if end > duration:
                self.add_error("replace_end", f"The song is only {duration:.1f} s long.")
            elif not start < end:
                self.add_error("replace_end", "The part must end after it starts.")
            elif end - start < MIN_INPAINT_SPAN:
                self.add_error("replace_end", f"Choose at least {MIN_INPAINT_SPAN:g} s to replace.")
        return cleaned

    def save(self, commit=True):
        if isinstance(self.source, Upload):
            self.instance.source_upload = self.source
            source_title = self.source.title
        else:
            self.instance.source_song = self.source
            source_title = self.source.display_title
        if not self.instance.title:  # the new songs keep their source's name; the badge says the mode
            self.instance.title = source_title[:200]
        return super().save(commit)


def source_style(source) -> str:
    """The style a song was made with ("" for an upload: nobody told us its style)."""
    return "" if isinstance(source, Upload) else source.tags


FORMS = {
    Mode.PROFESSIONAL: ProfessionalForm,
    Mode.INSPIRATION: InspirationForm,
    Mode.COMPOSE: ComposeForm,
}


def initial_from(transform: Transform) -> dict:
    """A request's settings as form initial data, for "reuse settings"."""
    initial = {
        name: getattr(transform, name)
        for name in ("title", "lyrics", "tags", "topic", "model", "instrumental", "seed", *SLIDERS,
                     "extend_at", "replace_start", "replace_end")
        if getattr(transform, name) not in (None, "")
    }
    for n, prompt in enumerate(transform.prompts or [], start=1):
        if n > PROMPT_COUNT or not isinstance(prompt, dict):
            break
        initial |= {f"prompt_{n}": prompt.get("text", ""), f"prompt_{n}_strength": prompt.get("strength"),
                    f"prompt_{n}_start": prompt.get("start"), f"prompt_{n}_end": prompt.get("end")}
    return initial


class UploadForm(forms.Form):
    """A file (decoded to prove it is audio) or a link riffweb fetches in the background."""

    title = forms.CharField(max_length=200, required=False, help_text="Defaults to the file's name.")
    file = forms.FileField(
        required=False, label="Audio file",
        help_text="mp3, m4a or wav, up to 50 MB (decoded to check it is audio).",
        error_messages={"empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".mp3,.m4a,.wav,audio/mpeg,audio/mp4,audio/wav"}),
    )
    url = forms.URLField(
        required=False, label="…or a link to download it from", max_length=1000, assume_scheme="https",
        help_text="We fetch it in the background.",
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            if self.files.get("file") is not None:
                raise forms.ValidationError("The file is empty.")
            return None
        limit = settings.RIFFWEB_UPLOAD_MAX_BYTES
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.3g} MB; the limit is {limit / 2**20:.3g} MB."
            )
        source = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload.read()
        upload.seek(0)
        try:
            checked = audio.check(source, max_seconds=settings.RIFFWEB_AUDIO_MAX_SECONDS)
        except audio.AudioError as exc:
            raise forms.ValidationError(str(exc)) from None
        upload.riffweb_duration, upload.riffweb_format = checked.duration, checked.format
        upload.riffweb_peaks = checked.peaks
        return upload

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "")
        if url and urlsplit(url).scheme not in {"http", "https"}:
            raise forms.ValidationError("Only http and https links can be fetched.")
        return url

    def clean(self):
        cleaned = super().clean()
        has_file, has_url = bool(cleaned.get("file")), bool(cleaned.get("url"))
        if not self.errors and has_file == has_url:
            self.add_error(None, "Choose a file or paste a link (one of the two).")
        if not cleaned.get("title"):
            if has_file:
                cleaned["title"] = PurePosixPath(cleaned["file"].name).stem[:200]
            elif has_url:
                cleaned["title"] = (PurePosixPath(urlsplit(cleaned["url"]).path).stem or "Upload")[:200]
        return cleaned


def upload_unavailable_reason() -> str:
    """Why uploads cannot work with the configured upstream ("" when they can)."""
    if dialects.current().upload_by_link and not settings.RIFFWEB_PUBLIC_URL:
        return (
            "This music service fetches uploads from a link to our copy, so riffweb needs its "
            "public address: set RIFFWEB_PUBLIC_URL."
        )
    return dialects.reason("upload_file")

