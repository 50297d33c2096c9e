"""Who may do what: the one place every view, partial and file response asks.

Each getter raises Http404 both when the object does not exist and when the user is not a
member of its project, so that a stranger cannot tell the two apart; a member whose role
is too small gets PermissionDenied (403), since they know the object exists.
"""

from typing import Literal

from django.db.models import QuerySet
from django.core.exceptions import PermissionDenied
from django.http import Http404

from riffweb.studio.models import Membership, Project, Song, Transform, Upload

Need = Literal["view", "edit", "own"]

_ROLES_FOR: dict[str, set[str]] = {
    "view": {Membership.Role.OWNER, Membership.Role.EDITOR, Membership.Role.VIEWER},
    "edit": {Membership.Role.OWNER, Membership.Role.EDITOR},
    "own": {Membership.Role.OWNER},
}


def projects_for(user, need: Need = "view") -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(
        memberships__user=user, memberships__role__in=_ROLES_FOR[need]
    ).distinct()


def membership_for(user, project_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, project_id=project_id).first()


def _check(user, project_id: int, need: Need) -> Membership:
    membership = membership_for(user, project_id)
    if membership is None:
        raise Http404("No such project.")
    if membership.role not in _ROLES_FOR[need]:
        raise PermissionDenied(f"Your role in this project ({membership.role}) cannot do this.")
    return membership


def get_project_for(user, pk: int, need: Need = "view") -> tuple[Project, Membership]:
    try:
        project = Project.objects.get(pk=pk)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
    return project, _check(user, project.pk, need)


def songs_for(user) -> QuerySet[Song]:
    """Every live (not trashed) song the user may listen to."""
    return Song.objects.filter(
        project__in=projects_for(user).values("pk"), deleted_at__isnull=True
    )


def get_song_for(user, pk: int, need: Need = "view", include_trashed: bool = False) -> Song:
    song = Song.objects.select_related("transform", "project").filter(pk=pk).first()
    if song is None or (song.deleted_at is not None and not include_trashed):
        raise Http404("No such song.")
    _check(user, song.project_id, need)
    return song


def get_transform_for(user, pk: int, need: Need = "view") -> Transform:
    transform = Transform.objects.select_related("project").filter(pk=pk).first()
    if transform is None:
        raise Http404("No such request.")
    _check(user, transform.project_id, need)
    return transform


def get_upload_for(user, pk: int, need: Need = "view") -> Upload:
    upload = Upload.objects.select_related("project").filter(pk=pk, deleted_at__isnull=True).first()
    if upload is None:
        raise Http404("No such upload.")
    _check(user, upload.project_id, need)
    return upload
