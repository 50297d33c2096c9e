from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from riffweb.studio.models import GuestLink, Membership


class InviteForm(forms.Form):
    who = forms.CharField(
        label="Username or e-mail address",
        max_length=254,
        help_text="Someone without an account gets an invitation link by e-mail.",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.VIEWER)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.user = None

    def clean_who(self) -> str:
        who = self.cleaned_data["who"].strip()
        users = get_user_model().objects.filter(is_active=True)
        if "@" in who:
            forms.EmailField().clean(who)
            self.user = users.filter(email__iexact=who).order_by("pk").first()
        else:
            self.user = users.filter(username__iexact=who).first()
            if self.user is None:
                raise forms.ValidationError(
                    "No account has that username: invite them by e-mail address instead."
                )
        if self.user and self.project.memberships.filter(user=self.user).exists():
            raise forms.ValidationError(f"{self.user.get_username()} is already a member.")
        return who


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class GuestLinkForm(forms.Form):
    EXPIRY_CHOICES = [("", "Never"), ("1", "In 1 day"), ("7", "In 7 days"), ("30", "In 30 days")]

    expires_in = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )
    allow_download = forms.BooleanField(label="Allow download", required=False)

    def create_link(self, song, user) -> GuestLink:
        days = self.cleaned_data["expires_in"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        return GuestLink.objects.create(
            song=song,
            created_by=user,
            allow_download=self.cleaned_data["allow_download"],
            expires_at=expires_at,
        )
