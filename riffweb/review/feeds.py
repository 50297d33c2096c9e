"""The comment list's live feed (see riffweb/studio/live.py): one aggregate query per poll."""

import functools
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe

from riffweb.review.models import Comment, Notification
from riffweb.studio import access
from riffweb.studio.cards import EPOCH
from riffweb.studio.models import Song, Transform


def version_of(count: int, latest) -> str:
    micros = (latest - EPOCH) // timedelta(microseconds=1) if latest else 0
    return f"{count}-{micros}"


def comment_versions(user, keys: list[int]) -> dict[int, str]:
    """{song id: version} for the live songs of the user's projects among `keys`: one query."""
    rows = (Song.objects.filter(pk__in=keys, project__memberships__user=user, deleted_at__isnull=True)
            .annotate(count=Count("comments"), latest=Max("comments__changed_at"))
            .values_list("pk", "count", "latest"))
    return {pk: version_of(count, latest) for pk, count, latest in rows}


def loaded_version(threads: list[Comment]) -> str:
    """The version of comments already loaded (threads with their replies): no query."""
    every = [c for thread in threads for c in (thread, *thread.thread_replies)]
    return version_of(len(every), max((c.changed_at for c in every), default=None))


def list_context(user, song, can_edit: bool | None = None) -> dict:
    """The comment section's context; `can_edit`: whether the user edits the song's project, when known."""
    if can_edit is None:
        can_edit = access.role_may(access.project_roles(user).get(song.project_id), "edit")
    threads = Comment.objects.threads(song.pk)
    return {"song": song, "threads": threads, "comments_version": loaded_version(threads),
            "can_edit_project": can_edit, "user": user}


def render_comment_lists(request, keys: list[int]) -> SafeString:
    songs = Song.objects.filter(pk__in=keys).order_by("pk")
    return mark_safe("".join(  # each part is a rendered (escaped) template
        render_to_string("review/_comments.html#comment-list", list_context(request.user, song) | {"oob": True},
                         request=request)
        for song in songs
    ))


def answering(request, song) -> Comment | None:
    """The comment a transform form was opened from (?comment= or the form's `comment` field),
    when it is a top-level comment on this song; anything else is ignored."""
    pk = request.POST.get("comment") or request.GET.get("comment", "")
    if not pk.isascii() or not pk.isdigit() or not isinstance(song, Song):
        return None
    return Comment.objects.select_related("author").filter(pk=int(pk), song=song, parent__isnull=True).first()


def answered(transform) -> list[Comment]:
    """The comments a request was started from, for its songs' pages. Only inpaint and extend
    start from a comment: no query for any other request."""
    if transform.mode not in {Transform.Mode.INPAINT, Transform.Mode.EXTEND}:
        return []
    return list(Comment.objects.filter(requests=transform.pk).select_related("author", "song"))


# --- the top bar's inbox count: every logged-in page carries "inbox:<user id>:<version>" ---


@functools.cache
def _unread_sql() -> str:
    """unread_version's statement, written once: every open page asks it on every poll, and the
    ORM's building of an aggregate cost more than the query (index notification_user_unread)."""
    quote = connection.ops.quote_name
    return (f"SELECT COUNT(*), MAX({quote('id')}) FROM {quote(Notification._meta.db_table)}"
            f" WHERE {quote('user_id')} = %s AND {quote('read_at')} IS NULL")


def unread_version(user) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(_unread_sql(), [user.pk])
        count, last = cursor.fetchone()
    return count, f"{count}-{last or 0}"


def inbox_versions(user, keys: list[int]) -> dict[int, str]:
    """Only one's own inbox: any other key is left out (never answered)."""
    if user.pk not in keys:
        return {}
    return {user.pk: unread_version(user)[1]}


def render_inbox_link(request, keys: list[int]) -> SafeString:
    unread, version = unread_version(request.user)
    context = {"inbox": {"unread": unread, "version": version}, "oob": True}
    return render_to_string("review/_inbox_link.html#inbox-link", context, request=request)


class InboxBadge:
    """The top bar's inbox count, loaded (one query) only by a page that shows it."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def _loaded(self) -> tuple[int, str]:
        return unread_version(self.user)

    @property
    def unread(self) -> int:
        return self._loaded[0]

    @property
    def version(self) -> str:
        return self._loaded[1]


def inbox_context(request) -> dict:
    """Context processor: the inbox link of every logged-in page."""
    return {"inbox": InboxBadge(request.user)} if request.user.is_authenticated else {}


def guest_context(song, link) -> dict:
    """A guest page's comments: none unless the link takes or shows them (see Comment.for_guest)."""
    shown = link.allow_comments or link.show_member_comments
    return {"song": song, "link": link, "threads": Comment.objects.for_guest(link) if shown else None}
