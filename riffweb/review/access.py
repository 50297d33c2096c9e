"""Who may do what with a comment, with the studio's answers (riffweb/studio/access.py):
404 for strangers and missing comments alike, 403 for a member whose rights are too small."""

from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404

from riffweb.review.models import Comment
from riffweb.studio import access

# "view": any member; "edit": its author; "resolve" and "remove": its author or an editor.
Need = Literal["view", "edit", "resolve", "remove"]


def get_comment_for(user, pk: int, need: Need = "view") -> tuple[Comment, str]:
    """The comment and the user's role in its project."""
    comment = Comment.objects.select_related("song", "song__project").filter(pk=pk).first()
    if comment is None or comment.song.deleted_at is not None:
        raise Http404("No such comment.")
    song, role = comment.song, access.project_roles(user).get(comment.song.project_id)
    if role is None:
        raise Http404("No such comment.")
    allowed = {
        "view": True,
        "edit": comment.may_edit(user),
        "resolve": comment.may_resolve(user, role),
        "remove": comment.may_resolve(user, role),
    }[need]
    if not allowed:
        raise PermissionDenied("Only its author (or, to resolve or remove it, an editor) may do this.")
    comment.song = song
    return comment, role
