"""Comments on a song page: post, reply, edit, remove, resolve. Each answers htmx with the
song's comment section and a plain form post with a redirect back to it (works without JS)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from riffweb.http import HtmxHttpRequest
from riffweb.review.access import get_comment_for
from riffweb.review.feeds import list_context
from riffweb.review.models import Comment, TooManyComments
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
    if data.get("parent"):
        parent = Comment.objects.filter(pk=data["parent"] if data["parent"].isdigit() else 0, song=song,
                                        parent__isnull=True).first()
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
