"""Comments on a song page: post, reply, edit, remove, resolve. Each answers htmx with the
song's comment section and a plain form post with a redirect back to it (works without JS).
And one's inbox of notifications."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from riffweb.http import HtmxHttpRequest
from riffweb.review.access import get_comment_for
from riffweb.review.feeds import guest_context, list_context
from riffweb.review import mail
from riffweb.review.models import Activity, Comment, EmailPreference, Notification, TooManyComments
from riffweb.studio import access


def _answer(request: HtmxHttpRequest, song, error: str = "", **form) -> HttpResponse:
    if request.htmx:
        context = list_context(request.user, song) | {"comment_error": error, "comment_form": form}
        return render(request, "review/_comments.html#comments", context)
    if error:
        messages.error(request, error)
    return redirect(f"{song.get_absolute_url()}#comments")


@login_required
@require_POST
def comment_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Any member comments at a moment or on a region, or replies to a comment of the song."""
    song = access.get_song_for(request.user, pk)
    data = request.POST
    parent = None
    if data.get("parent"):  # a reply: to a top-level comment of this song, still there
        asked = data["parent"]
        parent = Comment.objects.filter(pk=int(asked), song=song, parent__isnull=True).first() if (
            asked.isascii() and asked.isdigit() and len(asked) <= 18) else None
        if parent is None:
            return _answer(request, song, "That comment is gone: reload the page to see the latest.")
    try:
        Comment.objects.post(song=song, author=request.user, text=data.get("text", ""),
                             at=data.get("at"), end=data.get("end"), parent=parent)
    except (ValidationError, TooManyComments) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return _answer(request, song, message, **data.dict())
    return _answer(request, song)


@login_required
@require_POST
def comment_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment, _ = get_comment_for(request.user, pk, need="edit")
    try:
        comment.edit(request.POST.get("text", ""))
    except ValidationError as error:
        return _answer(request, comment.song, " ".join(error.messages))
    return _answer(request, comment.song)


@login_required
@require_POST
def comment_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment, _ = get_comment_for(request.user, pk, need="remove")
    comment.remove()
    return _answer(request, comment.song)


@login_required
@require_POST
def comment_resolve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment, _ = get_comment_for(request.user, pk, need="resolve")
    comment.resolve(request.POST.get("resolved", "1") == "1")
    return _answer(request, comment.song)


INBOX_PAGE = 25


@login_required
@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """One's notifications, newest first; ?only=mentions keeps the mentions; paginated."""
    mine = Notification.objects.filter(user=request.user).select_related("actor", "song", "comment")
    only_mentions = request.GET.get("only") == "mentions"
    if only_mentions:
        mine = mine.filter(kind=Notification.Kind.MENTION)
    page = Paginator(mine.order_by("-pk"), INBOX_PAGE).get_page(request.GET.get("page"))
    return render(request, "review/inbox.html", {"page": page, "only_mentions": only_mentions})


@login_required
@require_POST
def notification_read(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Mark one read and go to what it is about (a plain form: works without JS)."""
    notification = Notification.objects.filter(pk=pk, user=request.user).first()
    if notification is None:
        raise Http404("No such notification.")
    Notification.objects.filter(pk=notification.pk).mark_read()
    return redirect(notification.get_absolute_url())


@login_required
@require_POST
def inbox_read_all(request: HtmxHttpRequest) -> HttpResponse:
    Notification.objects.filter(user=request.user).mark_read()
    messages.success(request, "Everything in your inbox is marked read.")
    return redirect("review:inbox")


ACTIVITY_PAGE = 30


@login_required
@require_GET
def project_activity(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What happened in a project, newest first: each line links to its object while it exists."""
    project, _ = access.get_project_for(request.user, pk)
    lines = Activity.objects.filter(project=project).select_related("actor").prefetch_related("target")
    page = Paginator(lines.order_by("-pk"), ACTIVITY_PAGE).get_page(request.GET.get("page"))
    return render(request, "review/project_activity.html", {"project": project, "page": page})


@require_POST
def guest_comment_create(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """A guest comments through a link that allows it (403 otherwise), under the name they give.
    A plain form post: the guest page works without JavaScript."""
    song, link = access.get_song_by_guest_token(token)
    if not link.allow_comments:
        raise PermissionDenied("This link does not take comments.")
    data = request.POST
    try:
        Comment.objects.post_as_guest(link=link, name=data.get("name", ""), text=data.get("text", ""),
                                      at=data.get("at"), end=data.get("end"))
    except (ValidationError, TooManyComments) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return render(request, "teams/guest_song.html", guest_context(song, link) | {
            "comment_error": message, "comment_form": data.dict()}, status=400)
    return redirect(f"{link.get_absolute_url()}#comments")


@login_required
@require_http_methods(["GET", "POST"])
def email_preference(request: HtmxHttpRequest) -> HttpResponse:
    """Off, mentions at once, or a daily digest."""
    current = EmailPreference.objects.filter(user=request.user).first()
    mode = current.mode if current else EmailPreference.Mode.OFF
    if request.method == "POST":
        chosen = request.POST.get("mode", "")
        if chosen not in EmailPreference.Mode.values:
            return HttpResponseBadRequest("Choose one of the e-mail options.")
        EmailPreference.set_mode(request.user, chosen)
        messages.success(request, "Your e-mail choice is saved.")
        return redirect("review:email_preference")
    return render(request, "review/email_preference.html", {"mode": mode, "modes": EmailPreference.Mode.choices})


@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """From a mail, without logging in: GET asks (mail scanners follow links), POST turns mail off."""
    user_id = mail.user_id_from(token)
    if user_id is None or not get_user_model().objects.filter(pk=user_id).exists():
        raise Http404("This unsubscribe link is not valid.")
    done = request.method == "POST"
    if done:
        EmailPreference.objects.update_or_create(user_id=user_id, defaults={"mode": EmailPreference.Mode.OFF})
    return render(request, "review/email_unsubscribe.html", {"token": token, "done": done})
