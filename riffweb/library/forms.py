from django import forms

from riffweb.playlists.models import Playlist
from riffweb.studio.models import Song, Transform


class LibraryFilterForm(forms.Form):
    """The library's query string: every filter lives in the URL so a view can be shared."""

    SORTS = {
        "newest": ("-created_at", "-pk"),
        "oldest": ("created_at", "pk"),
        "title": ("title", "pk"),
        "shortest": ("duration", "pk"),
        "longest": ("-duration", "-pk"),
        # Most keeper marks first, then fewest rejects (the song_library_keepers index).
        "keepers": ("-keepers", "rejects", "-created_at", "-pk"),
    }

    q = forms.CharField(label="Search", required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, lyrics or tags"}))
    project = forms.TypedChoiceField(label="Project", required=False, coerce=int, empty_value=None)
    mode = forms.ChoiceField(label="Mode", required=False,
                             choices=[("", "Any mode"), *Transform.Mode.choices])
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Any status"), *Song.Status.choices])
    # "refilter": a change of this control reloads the list at once (the search box waits for typing).
    favourites = forms.BooleanField(label="Favourites only", required=False,
                                    widget=forms.CheckboxInput(attrs={"class": "refilter"}))
    since = forms.DateField(label="From", required=False,
                            widget=forms.DateInput(attrs={"type": "date", "class": "refilter"}))
    until = forms.DateField(label="Until", required=False,
                            widget=forms.DateInput(attrs={"type": "date", "class": "refilter"}))
    takes = forms.ChoiceField(label="Takes", required=False, choices=[
        ("", "Any take"), ("keepers", "Keepers"), ("undecided", "Undecided (no marks)"),
        ("rejected", "Rejected"), ("mine", "My keepers"), ("unmarked_by_me", "Not marked by me"),
    ])
    sort = forms.ChoiceField(label="Sort by", required=False, choices=[
        ("newest", "Newest"), ("oldest", "Oldest"), ("title", "Title"),
        ("shortest", "Shortest"), ("longest", "Longest"), ("keepers", "Most keepers"),
    ])

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", "All projects")] + [
            (m.project_id, m.project.name) for m in memberships
        ]

    def menus(self) -> list[tuple]:
        """The select fields as (field, [(value, label, selected)]), worked out once here:
        the library draws them by hand, faster than a template per option."""
        menus = []
        for name in ("project", "mode", "status", "takes", "sort"):
            field = self[name]
            current = str(field.value() or "")
            options = [(str(v), label, str(v) == current) for v, label in field.field.choices]
            menus.append((field, options))
        return menus


class RenameForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)


class LabelsForm(forms.Form):
    labels = forms.CharField(label="Tags", max_length=300, required=False,
                             help_text="Your team's own tags, comma-separated")

    def clean_labels(self) -> str:
        return self.join(self.cleaned_data["labels"])

    @staticmethod
    def join(*labels: str) -> str:
        """Comma-separated, each tag once, in the order first given."""
        words = [w.strip() for text in labels for w in text.split(",")]
        return ", ".join(dict.fromkeys(w for w in words if w))[:300]


class MoveForm(forms.Form):
    project = forms.TypedChoiceField(label="Move to", coerce=int)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [
            (m.project_id, m.project.name) for m in memberships if m.can_edit
        ]


# Primary keys are 64-bit: a larger number names no song, and the database cannot even compare it.
MAX_SONG_ID = 2**63 - 1


class SongIdsField(forms.Field):
    """The ticked songs' ids (checkboxes named "songs")."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        not_yours = forms.ValidationError("Those songs are not in your library.")
        try:
            ids = list(dict.fromkeys(int(v) for v in value or []))
        except (TypeError, ValueError):
            raise not_yours from None
        if not all(0 < pk <= MAX_SONG_ID for pk in ids):
            raise not_yours
        return ids

    def validate(self, value) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > 200:
            raise forms.ValidationError("Choose at most 200 songs at once.")


class BulkForm(forms.Form):
    ACTIONS = [
        ("favourite", "Add to favourites"),
        ("unfavourite", "Remove from favourites"),
        ("tag", "Add tag"),
        ("move", "Move to project"),
        ("trash", "Move to trash"),
        ("playlist", "Add to playlist"),
    ]
    songs = SongIdsField(error_messages={"required": "Tick at least one song first."})
    action = forms.ChoiceField(choices=ACTIONS)
    label = forms.CharField(required=False, max_length=60)
    project = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    playlist = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        editable = [m for m in memberships if m.can_edit]
        self.fields["project"].choices = [("", "—")] + [(m.project_id, m.project.name) for m in editable]
        playlists = Playlist.objects.filter(project__in=[m.project_id for m in editable]).select_related("project")
        self.fields["playlist"].choices = [("", "—")] + [(p.pk, f"{p.name} ({p.project.name})") for p in playlists]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "tag" and not cleaned.get("label"):
            self.add_error("label", "Write the tag to add.")
        if cleaned.get("action") == "move" and not cleaned.get("project"):
            self.add_error("project", "Choose the project to move to.")
        if cleaned.get("action") == "playlist" and not cleaned.get("playlist"):
            self.add_error("playlist", "Choose the playlist to add to.")
        return cleaned
