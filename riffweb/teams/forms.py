from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone

from riffweb.studio.models import GuestLink, Invitation, Membership


class InviteForm(forms.Form):
    """Whom to invite. Its answers never tell whether an account exists: an unknown username
    gets a pending invitation like a known one, which simply never gets an answer."""

    who = forms.CharField(
        label="Username or e-mail address",
        max_length=254,
        help_text="They accept it in riffweb; an e-mail address also gets a link by e-mail.",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.VIEWER)

    def __init__(self, *args, project, invited_by, **kwargs):
        super().__init__(*args, **kwargs)
        self.project, self.invited_by = project, invited_by

    def clean_who(self) -> str:
        who = self.cleaned_data["who"].strip()
        if "@" in who:
            return forms.EmailField().clean(who)
        if len(who) > 150:
            raise forms.ValidationError("A username has at most 150 characters.")
        get_user_model().username_validator(who)
        # The owner sees the member list, so saying this reveals nothing new.
        if self.project.memberships.filter(user__username__iexact=who).exists():
            raise forms.ValidationError(f"{who} is already a member.")
        return who

    def clean(self):
        cleaned = super().clean()
        limit = settings.RIFFWEB_INVITES_PER_HOUR
        last_hour = timezone.now() - timedelta(hours=1)
        if Invitation.objects.filter(invited_by=self.invited_by, created_at__gte=last_hour).count() >= limit:
            raise forms.ValidationError(
                f"You have sent {limit} invitations in the last hour, the most we allow: try again later."
            )
        return cleaned

    def create_invitation(self) -> Invitation:
        who, users = self.cleaned_data["who"], get_user_model().objects.filter(is_active=True)
        if "@" in who:
            fields = {"email": who, "user": users.filter(email__iexact=who).order_by("pk").first()}
        else:
            fields = {"username": who, "user": users.filter(username__iexact=who).first()}
        return Invitation.objects.create(
            project=self.project, role=self.cleaned_data["role"], invited_by=self.invited_by, **fields
        )


class InvitedSignupForm(UserCreationForm):
    """An account made from an e-mail invitation's link: it gets the invited address."""

    def __init__(self, *args, invitation: Invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def save(self, commit=True):
        user = super().save(commit=False)
        user.email = self.invitation.email
        if commit:
            user.save()
        return user


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ShareLinkForm(forms.Form):
    """A listen-only link's expiry: what every guest link is made with (songs' and playlists')."""

    EXPIRY_CHOICES = [("", "Never"), ("1", "In 1 day"), ("7", "In 7 days"), ("30", "In 30 days")]

    expires_in = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )

    def link_fields(self, user) -> dict:
        days = self.cleaned_data["expires_in"]
        return {"created_by": user, "expires_at": timezone.now() + timedelta(days=days) if days else None}


class GuestLinkForm(ShareLinkForm):
    allow_download = forms.BooleanField(label="Allow download", required=False)
    allow_comments = forms.BooleanField(label="Allow comments (guests give a name)", required=False)
    show_member_comments = forms.BooleanField(label="Guests see the members' comments", required=False)

    def create_link(self, song, user) -> GuestLink:
        return GuestLink.objects.create(
            song=song,
            allow_download=self.cleaned_data["allow_download"],
            allow_comments=self.cleaned_data["allow_comments"],
            show_member_comments=self.cleaned_data["show_member_comments"],
            **self.link_fields(user),
        )
