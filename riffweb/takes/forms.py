from django import forms

from riffweb.takes.models import Take


class TakeForm(forms.Form):
    """A member's mark; empty removes it."""

    mark = forms.ChoiceField(choices=[("", "No mark"), *Take.Mark.choices], required=False)
