"""Members and roles, invitations, leaving, guest links and the pages guests see."""

import logging
import smtplib

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from riffweb.http import HtmxHttpRequest
from riffweb.review import feeds
from riffweb.studio import access
from riffweb.audio_response import audio_response, image_response, listen_only_response
from riffweb.studio.lyrics_views import lrc_response
from riffweb.studio.models import Invitation, Membership
from riffweb.teams.forms import GuestLinkForm, InvitedSignupForm, InviteForm, RoleForm

log = logging.getLogger(__name__)


def _members_context(request, project, membership, **extra) -> dict:
    context = {
        "project": project,
        "membership": membership,
        "members": project.memberships.select_related("user").order_by("user__username"),
        "invitations": [],
        "invite_form": InviteForm(project=project, invited_by=request.user),
        **extra,
    }
    if membership.is_owner:
        # A link only for e-mail invitations: whoever is invited by username answers in riffweb.
        context["invitations"] = [
            (invitation, request.build_absolute_uri(invitation.get_absolute_url()) if invitation.email else "")
            for invitation in project.invitations.pending().order_by("created_at")
        ]
    return context


def _members_response(request: HtmxHttpRequest, project, error: str = "", **extra) -> HttpResponse:
    """After an owner's change: the members fragment for htmx, post/redirect/get otherwise."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("teams:member_list", project.pk)
    membership = access.membership_for(request.user, project.pk)
    context = _members_context(request, project, membership, error=error, **extra)
    return render(request, "teams/member_list.html#members", context)


@login_required
@require_GET
def member_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk)
    return render(request, "teams/member_list.html", _members_context(request, project, membership))


@login_required
@require_POST
@transaction.atomic
def member_invite(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Record a pending offer; the answer is the same whether or not the account exists."""
    project, membership = access.get_project_for(request.user, pk, need="own")
    form = InviteForm(request.POST, project=project, invited_by=request.user)
    if not form.is_valid():
        template = "teams/member_list.html" + ("#members" if request.htmx else "")
        return render(request, template, _members_context(request, project, membership, invite_form=form))
    invitation = form.create_invitation()
    if invitation.email:
        _send_invitation_mail(request, invitation)
        notice = f"Invitation sent to {invitation.email}; its link is below if you prefer to send it yourself."
    else:
        notice = f"Invitation sent to {invitation.username}: they can accept it from their project list."
    if not request.htmx:
        messages.success(request, notice)
    return _members_response(request, project, notice=notice)


def _send_invitation_mail(request, invitation: Invitation) -> None:
    """The subject is fixed text: nothing a user typed goes into a mail header."""
    link = request.build_absolute_uri(invitation.get_absolute_url())
    _send(request, invitation.email, "An invitation to a project on riffweb",
          f"{request.user.get_username()} invites you to the project “{invitation.project}” "
          f"as {invitation.get_role_display().lower()}.\n\nOpen this link to accept or decline it "
          f"(until {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{link}\n")


def _send(request, to: str, subject: str, body: str) -> None:
    """Mail is a courtesy: when it fails the owner still has the link to send themselves."""
    try:
        EmailMessage(subject, body, to=[to]).send()
    except (OSError, smtplib.SMTPException):
        log.warning("Could not send mail to %s", to, exc_info=True)
        messages.warning(request, f"The e-mail to {to} could not be sent: send the link yourself.")


@login_required
@require_POST
def member_role(request: HtmxHttpRequest, pk: int, member_pk: int) -> HttpResponse:
    member = access.get_membership_for(request.user, pk, member_pk, need="own")
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_response(request, member.project, error="Choose owner, editor or viewer.")
    with transaction.atomic():
        if form.cleaned_data["role"] != Membership.Role.OWNER and _is_last_owner(member):
            return _members_response(request, member.project, error=_LAST_OWNER)
        member.role = form.cleaned_data["role"]
        member.save(update_fields=["role"])
    return _members_response(request, member.project)


@login_required
@require_POST
def member_remove(request: HtmxHttpRequest, pk: int, member_pk: int) -> HttpResponse:
    member = access.get_membership_for(request.user, pk, member_pk, need="own")
    with transaction.atomic():
        if _is_last_owner(member):
            return _members_response(request, member.project, error=_LAST_OWNER)
        member.delete()
    if member.user_id == request.user.pk:
        return redirect("studio:project_list")
    return _members_response(request, member.project)


_LAST_OWNER = "A project always keeps an owner: make someone else owner first."


def _is_last_owner(member: Membership) -> bool:
    if member.role != Membership.Role.OWNER:
        return False
    owners = Membership.objects.select_for_update().filter(
        project_id=member.project_id, role=Membership.Role.OWNER
    )
    return not owners.exclude(pk=member.pk).exists()


@login_required
@require_POST
def member_leave(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, membership = access.get_project_for(request.user, pk)
    with transaction.atomic():
        if _is_last_owner(membership):
            messages.error(request, _LAST_OWNER)
            return redirect("teams:member_list", project.pk)
        membership.delete()
    messages.success(request, f"You left “{project}”.")
    return redirect("studio:project_list")


@login_required
@require_POST
def project_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    project, _ = access.get_project_for(request.user, pk, need="own")
    if request.POST.get("confirm", "").strip() != project.name:
        messages.error(request, f"Type the project's name, “{project.name}”, to delete it.")
        return redirect("teams:member_list", project.pk)
    project.delete_with_files()
    messages.success(request, f"“{project.name}” and its songs are deleted.")
    return redirect("studio:project_list")


@login_required
@require_POST
def invitation_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    invitation = access.get_invitation_for(request.user, pk, need="own")
    invitation.expires_at = timezone.now()
    invitation.save(update_fields=["expires_at"])
    return _members_response(request, invitation.project)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """An e-mail invitation's link: the invited person joins, or creates their account here.

    The link is bound to the invitation: a signed-in account that is not the one invited (or
    lacks the invited address) is refused, so a forwarded or leaked link admits nobody else.
    """
    invitation = access.get_invitation_by_token(token)
    signed_in = request.user.is_authenticated
    if signed_in and not invitation.is_for(request.user):
        return render(request, "teams/invitation_accept.html", {"invitation": invitation, "not_for_you": True},
                      status=403)
    form = None if signed_in else InvitedSignupForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and (form is None or form.is_valid()):
        with transaction.atomic():
            user = request.user if form is None else form.save()
            if not invitation.accept(user):
                raise Http404("This invitation was used already.")
        if form is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(invitation.project)
    login_url = f"{reverse('login')}?next={request.path}"
    context = {"invitation": invitation, "form": form, "login_url": login_url}
    return render(request, "teams/invitation_accept.html", context)


@login_required
@require_POST
def invitation_answer(request: HtmxHttpRequest, pk: int, answer: str) -> HttpResponse:
    """Accept or decline an invitation waiting in my list; anyone else's is a 404."""
    invitation = Invitation.objects.pending_for(request.user).filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation.")
    if answer == "decline":
        invitation.decline()
        messages.success(request, f"You declined the invitation to “{invitation.project}”.")
        return redirect("studio:project_list")
    invitation.accept(request.user)
    return redirect(invitation.project)


@login_required
@require_GET
def song_sharing(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk)
    template = "teams/song_sharing.html"
    if request.htmx:
        template += "#song-sharing"
    return render(request, template, _sharing_context(request, song))


def _sharing_context(request, song, **extra) -> dict:
    can_edit = access.can(request.user, song.project_id, "edit")
    links = song.guest_links.order_by("-created_at") if can_edit else []
    return {
        "song": song,
        "can_edit": can_edit,
        "song_url": request.build_absolute_uri(song.get_absolute_url()),
        "links": [(link, request.build_absolute_uri(link.get_absolute_url())) for link in links],
        "form": GuestLinkForm(),
        **extra,
    }


@login_required
@require_POST
def guest_link_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    song = access.get_song_for(request.user, pk, need="edit")
    form = GuestLinkForm(request.POST)
    created = form.create_link(song, request.user) if form.is_valid() else None
    if not request.htmx:
        return redirect("teams:song_sharing", song.pk)
    context = _sharing_context(request, song, created=created, **({} if created else {"form": form}))
    return render(request, "teams/song_sharing.html#song-sharing", context)


@login_required
@require_POST
def guest_link_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    link = access.get_guest_link_for(request.user, pk, need="edit")
    link.revoke()
    if not request.htmx:
        return redirect("teams:song_sharing", link.song_id)
    song = access.get_song_for(request.user, link.song_id)
    return render(request, "teams/song_sharing.html#song-sharing", _sharing_context(request, song))


@require_GET
def guest_song(request: HtmxHttpRequest, token: str) -> HttpResponse:
    song, link = access.get_song_by_guest_token(token)
    return render(request, "teams/guest_song.html", feeds.guest_context(song, link))


def _guest_file(request, token: str, as_download: bool) -> HttpResponse:
    song, link = access.get_song_by_guest_token(token)
    if not song.is_playable or (as_download and not link.allow_download):
        raise Http404("Nothing to play here.")
    if as_download:
        response = audio_response(request, song.audio, song.audio_format, song.download_name())
    elif link.allow_download:
        response = audio_response(request, song.audio, song.audio_format, None)
    else:
        response = listen_only_response(request, song)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def guest_audio(request: HtmxHttpRequest, token: str) -> HttpResponse:
    return _guest_file(request, token, as_download=False)


@require_GET
def guest_download(request: HtmxHttpRequest, token: str) -> HttpResponse:
    return _guest_file(request, token, as_download=True)


@require_GET
def guest_lyrics(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The song's timed lyrics as .lrc, for whoever may listen through the link."""
    song, _ = access.get_song_by_guest_token(token)
    response = lrc_response(song)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def guest_cover(request: HtmxHttpRequest, token: str) -> HttpResponse:
    song, _ = access.get_song_by_guest_token(token)
    if not song.cover:
        raise Http404("This song has no cover art.")
    response = image_response(song.cover)
    response["X-Robots-Tag"] = "noindex"
    return response
