import re

from django import forms

from riffweb.studio.models import Project, Transform
from riffweb.upstream import dialects

SECTION_MARKER = re.compile(r"^\s*\[([^\]]*)\]\s*$")
KNOWN_SECTIONS = {"intro", "verse", "pre-chorus", "chorus", "hook", "bridge", "outro", "instrumental"}


def check_lyrics(lyrics: str) -> str:
    """Lyrics may carry [Verse]/[Chorus]-style markers; a typo in one should not pass silently."""
    for line in lyrics.splitlines():
        match = SECTION_MARKER.match(line)
        if match:
            name = re.sub(r"\s*\d+$", "", match.group(1).strip()).lower()
            if name not in KNOWN_SECTIONS:
                raise forms.ValidationError(
                    f"Unknown section marker [{match.group(1)}]: use [Intro], [Verse], "
                    "[Pre-Chorus], [Chorus], [Bridge] or [Outro]."
                )
    return lyrics.strip()


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class TransformForm(forms.ModelForm):
    """Base for every request form: carries the key that makes a re-sent form harmless."""

    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is out of date: reload the page and submit again.",
            "invalid": "This form is out of date: reload the page and submit again.",
        },
    )

    def __init__(self, *args, dialect: str, **kwargs):
        super().__init__(*args, **kwargs)
        if "model" in self.fields:
            offered = dialects.get(dialect)
            choices = [(m, m) for m in offered.models]
            self.fields["model"] = forms.ChoiceField(choices=choices, initial=offered.default_model)


class ProfessionalForm(TransformForm):
    lyrics = forms.CharField(
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Mark sections with [Verse], [Chorus], [Bridge]…",
    )

    class Meta:
        model = Transform
        fields = ["title", "lyrics", "tags", "model", "instrumental"]
        labels = {"tags": "Style tags", "instrumental": "Instrumental (no vocals)"}
        help_texts = {"tags": "Comma-separated, e.g. slow piano ballad, warm, female vocals"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = True
        self.fields["tags"].required = True

    def clean_lyrics(self) -> str:
        return check_lyrics(self.cleaned_data["lyrics"])

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("instrumental") and not cleaned.get("lyrics") and "lyrics" not in self.errors:
            self.add_error("lyrics", "Write some lyrics, or tick “Instrumental”.")
        return cleaned
