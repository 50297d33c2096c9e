import re

from django import forms

from riffweb.studio.models import Palette, Project, Song, Transform, single_line
from riffweb.upstream import dialects

SECTION_MARKER = re.compile(r"^\s*\[([^\]]*)\]\s*$")
# Section names the music models are known to follow; any other bracketed name is still sent
# (the list is open), with a hint that the model may sing it as a plain verse.
KNOWN_SECTIONS = {
    "intro", "verse", "pre-chorus", "prechorus", "chorus", "post-chorus", "hook", "refrain", "bridge",
    "middle 8", "breakdown", "build", "drop", "solo", "instrumental", "interlude", "break", "outro", "ending",
}
REPEAT = re.compile(r"\s*(?:x\s*\d+|\d+)$", re.IGNORECASE)  # [Chorus x2], [Verse 2]


def check_lyrics(lyrics: str) -> tuple[str, list[str]]:
    """Lyrics may carry [Verse]/[Chorus]-style markers: the stripped lyrics, and a hint for each
    marker name the music models may not know. Only an empty marker is an error."""
    unknown: list[str] = []
    for line in lyrics.splitlines():
        match = SECTION_MARKER.match(line)
        if not match:
            continue
        marker = match.group(1).strip()
        name = REPEAT.sub("", marker).lower()
        if not name:
            raise forms.ValidationError("A section marker needs a name, e.g. [Verse] or [Chorus].")
        if name not in KNOWN_SECTIONS and marker not in unknown:
            unknown.append(marker)
    hints = [f"[{marker}] is not a section the music service is known to follow; it is sent as written "
             "and may be sung as a verse." for marker in unknown]
    return lyrics.strip(), hints


class LyricsMixin:
    """A form with a lyrics field: markers checked, hints kept for the page that follows."""

    def clean_lyrics(self) -> str:
        # Counted as the page's counter and the service count them: a line break is one character.
        lyrics = self.cleaned_data["lyrics"].replace("\r\n", "\n")
        limit = self.dialect.lyrics_max
        if len(lyrics) > limit:
            raise forms.ValidationError(
                f"The music service takes at most {limit} characters of lyrics; these have {len(lyrics)}."
            )
        lyrics, self.hints = check_lyrics(lyrics)
        return lyrics


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class TransformForm(forms.ModelForm):
    """Base for every request form: carries the key that makes a re-sent form harmless."""

    hints: list[str] = []  # for the musician once the request is sent; only ever replaced

    # The palette the form was filled from (kept on the request when it is this project's).
    palette = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is out of date: reload the page and submit again.",
            "invalid": "This form is out of date: reload the page and submit again.",
        },
    )

    def __init__(self, *args, dialect: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.dialect = dialects.get(dialect)
        if "model" in self.fields:
            choices = [(m, m) for m in self.dialect.models]
            self.fields["model"] = forms.ChoiceField(choices=choices, initial=self.dialect.default_model)
        if "seed" in self.fields:
            self.fields["seed"] = seed_field()
        if "lyrics" in self.fields:
            # The service's limit (dialects.py), for the page's counter; LyricsMixin enforces it.
            # No maxlength: pasted text over it stays visible, and the counter says how much to cut.
            self.fields["lyrics"].widget.attrs["data-lyrics-limit"] = self.dialect.lyrics_max

    def disable_unavailable(self, names) -> None:
        """Grey out the controls this form's music service lacks, with the reason as help text."""
        for name in names:
            why = self.dialect.reason(name)
            if why and name in self.fields:
                field = self.fields[name]
                field.disabled, field.required = True, False
                field.help_text = why
                field.initial = None


def seed_field() -> forms.IntegerField:
    return forms.IntegerField(
        required=False, min_value=0, max_value=2147483647,
        help_text="Same seed and inputs give the same songs; leave empty for a surprise.",
    )


class ProfessionalForm(LyricsMixin, TransformForm):
    lyrics = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Mark sections with [Verse], [Chorus], [Bridge]…",
    )

    class Meta:
        model = Transform
        fields = ["title", "lyrics", "tags", "seed", "model", "instrumental"]
        labels = {"tags": "Style tags", "instrumental": "Instrumental (no vocals)"}
        help_texts = {"tags": "Comma-separated, e.g. slow piano ballad, warm, female vocals"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = True
        self.fields["tags"].required = True
        self.disable_unavailable(["seed"])

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("instrumental") and not cleaned.get("lyrics") and "lyrics" not in self.errors:
            self.add_error("lyrics", "Write some lyrics, or tick “Instrumental”.")
        return cleaned


class ArrangementForm(forms.Form):
    name = forms.CharField(max_length=120, label="Arrangement name")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        single_line(name)
        return name


class RegionForm(forms.Form):
    """A region of one of the project's finished songs; the arrangement checks it fits."""

    song = forms.ModelChoiceField(queryset=Song.objects.none(), label="Song", empty_label=None)
    start = forms.FloatField(label="Start (seconds)", min_value=0, max_value=1e5,
                             widget=forms.NumberInput(attrs={"step": 0.1, "min": 0}))
    end = forms.FloatField(label="End (seconds)", min_value=0, max_value=1e5,
                           widget=forms.NumberInput(attrs={"step": 0.1, "min": 0}))
    crossfade = forms.FloatField(label="Crossfade with the region before (seconds)", min_value=0, max_value=60,
                                 initial=0, required=False, widget=forms.NumberInput(attrs={"step": 0.1, "min": 0}))

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["song"].queryset = Song.objects.filter(
            project=project, deleted_at__isnull=True, status=Song.Status.DONE
        ).exclude(audio="").select_related("transform").order_by("-created_at", "variant")
        self.fields["song"].label_from_instance = (
            lambda s: f"{s.display_title} · {s.variant_label} ({s.duration or 0:.1f} s)")

    def clean_crossfade(self) -> float:
        return self.cleaned_data.get("crossfade") or 0.0


class RegionChangeForm(forms.Form):
    start = forms.FloatField(min_value=0, max_value=1e5)
    end = forms.FloatField(min_value=0, max_value=1e5)
    crossfade = forms.FloatField(min_value=0, max_value=60, required=False)

    def clean_crossfade(self) -> float:
        return self.cleaned_data.get("crossfade") or 0.0


def unit(label: str) -> forms.FloatField:
    return forms.FloatField(label=label, min_value=0, max_value=1, required=False,
                            widget=forms.NumberInput(attrs={"step": 0.05, "min": 0, "max": 1}))


class PaletteForm(forms.Form):
    """A palette from any mode form's fields (same names), or from its own edit page; what a
    mode form lacks is left unset."""

    palette_name = forms.CharField(max_length=80, label="Palette name",
                                   error_messages={"required": "Name the palette."})
    tags = forms.CharField(max_length=500, required=False, label="Style tags")
    lyrics_strength = unit("Lyrics strength")
    sound_prompt_strength = unit("Sound prompt strength")
    weirdness = unit("Weirdness")
    cover_strength = unit("Cover strength")
    variation_strength = unit("Variation strength")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, 4):
            self.fields[f"prompt_{n}"] = forms.CharField(max_length=300, required=False, label=f"Sound prompt {n}")
            self.fields[f"prompt_{n}_strength"] = unit(f"Sound prompt {n} strength")
            self.fields[f"prompt_{n}_start"] = unit(f"Sound prompt {n} start (0–1 of the song)")
            self.fields[f"prompt_{n}_end"] = unit(f"Sound prompt {n} end (0–1 of the song)")

    @classmethod
    def of(cls, palette: Palette) -> "PaletteForm":
        initial = {"palette_name": palette.name, **{f: getattr(palette, f) for f in Palette.FIELDS if f != "prompts"}}
        for n, prompt in enumerate(palette.prompts, 1):
            initial |= {f"prompt_{n}": prompt["text"], f"prompt_{n}_strength": prompt["strength"],
                        f"prompt_{n}_start": prompt["start"], f"prompt_{n}_end": prompt["end"]}
        return cls(initial=initial)

    def clean_palette_name(self) -> str:
        name = self.cleaned_data["palette_name"].strip()
        single_line(name)
        return name

    def clean(self):
        cleaned = super().clean()
        prompts = []
        for n in range(1, 4):
            text = (cleaned.get(f"prompt_{n}") or "").strip()
            start, end = cleaned.get(f"prompt_{n}_start"), cleaned.get(f"prompt_{n}_end")
            start, end = 0.0 if start is None else start, 1.0 if end is None else end
            if text and end <= start:
                self.add_error(f"prompt_{n}_end", "The prompt's part must end after it starts.")
            elif text:
                strength = cleaned.get(f"prompt_{n}_strength")
                prompts.append({"text": text, "strength": 0.5 if strength is None else strength,
                                "start": start, "end": end})
        cleaned["prompts"] = prompts
        return cleaned

    def values(self) -> dict:
        values = {field: self.cleaned_data.get(field) for field in Palette.FIELDS}
        return {"name": self.cleaned_data["palette_name"], **values, "tags": values["tags"] or ""}
