"""Who may do what: the one place every view, partial and file response asks.

Each getter raises Http404 both when the object does not exist and when the user is not a
member of its project, so that a stranger cannot tell the two apart; a member whose role
is too small gets PermissionDenied (403), since they know the object exists.
"""

import functools
from typing import Literal

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.core.exceptions import PermissionDenied
from django.http import Http404

from riffweb.studio import cards
from riffweb.studio.models import (
    Arrangement, GuestLink, Invitation, LyricsDraft, Membership, Palette, Project, Region, Song, Transform, Upload,
)
from riffweb.upstream.models import UpstreamState

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


def project_roles(user) -> dict[int, str]:
    """{project id: the user's role} in one narrow query (the status poll's rights check)."""
    if not user.is_authenticated:
        return {}
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


@functools.cache
def _polled_sql() -> str:
    """polled_songs' statement, written once: the poll runs it for every open page every few
    seconds, and building it through the ORM cost more CPU than the rest of the poll together."""
    quote, song = connection.ops.quote_name, Song._meta
    columns = ", ".join(f"s.{quote(song.get_field(name).column)}" for name in ("id", *cards.VERSION_FIELDS))
    return (
        f"SELECT {columns}, m.{quote('role')}, EXISTS(SELECT 1 FROM {quote(UpstreamState._meta.db_table)}"
        f" WHERE {quote('id')} = %s AND {quote('unreachable_since')} IS NOT NULL) AS {quote('unreachable')}"
        f" FROM {quote(song.db_table)} s JOIN {quote(Membership._meta.db_table)} m"
        f" ON m.{quote('project_id')} = s.{quote('project_id')} AND m.{quote('user_id')} = %s"
        f" WHERE s.{quote('deleted_at')} IS NULL AND s.{quote('id')} IN ({{ids}})"
    )


def polled_songs(user, ids) -> list[Song]:
    """The live songs among `ids` the user may see, each with the user's `role` in its project
    and the service's outage flag (`unreachable`), in one query: the status poll's whole read
    when nothing changed. It starts from the ids (primary key) and checks each song's project
    in the membership index, so it never walks a project's songs."""
    ids = list(ids)
    if not user.is_authenticated or not ids:
        return []
    sql = _polled_sql().format(ids=", ".join(["%s"] * len(ids)))
    return list(Song.objects.raw(sql, [UpstreamState.SINGLETON, user.pk, *ids]))


def role_may(role: str | None, need: Need) -> bool:
    return role in _ROLES_FOR[need]


def membership_for(user, project_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, project_id=project_id).first()


def _require(role: str | None, need: Need) -> None:
    if role is None:
        raise Http404("No such project.")
    if role not in _ROLES_FOR[need]:
        raise PermissionDenied(f"Your role in this project ({role}) cannot do this.")


def check_role(user, project_id: int, need: Need) -> Membership:
    membership = membership_for(user, project_id)
    _require(membership.role if membership else None, need)
    return membership


def _role_of(user) -> Subquery:
    """The user's role in a row's project (None for a stranger), to annotate the row with: a page
    then has the object and the right to it in one query, and asks no membership again."""
    return Subquery(Membership.objects.filter(project=OuterRef("project_id"), user_id=user.pk).values("role"))


def can(user, project_id: int, need: Need) -> bool:
    """For templates and forms that show or hide controls; views still call a getter."""
    membership = membership_for(user, project_id)
    return membership is not None and role_may(membership.role, need)


def get_project_for(user, pk: int, need: Need = "view") -> tuple[Project, Membership]:
    try:
        project = Project.objects.get(pk=pk)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
    return project, check_role(user, project.pk, need)


def songs_for(user) -> QuerySet[Song]:
    """Every live (not trashed) song the user may listen to."""
    return Song.objects.filter(
        project__in=projects_for(user).values("pk"), deleted_at__isnull=True
    )


def uploads_for(user) -> QuerySet[Upload]:
    """Every live upload the user may listen to."""
    return Upload.objects.filter(project__in=projects_for(user).values("pk"), deleted_at__isnull=True)


def trashed_songs_for(user) -> QuerySet[Song]:
    """Songs in the trash of the user's projects, until the trash is emptied."""
    return Song.objects.filter(
        project__in=projects_for(user).values("pk"), deleted_at__isnull=False
    )


def get_song_for(user, pk: int, need: Need = "view", include_trashed: bool = False) -> Song:
    """The song with the user's `role` in its project."""
    song = Song.objects.select_related("transform", "project").annotate(role=_role_of(user)).filter(pk=pk).first()
    if song is None or (song.deleted_at is not None and not include_trashed):
        raise Http404("No such song.")
    _require(song.role, need)
    return song


def get_songs_for(user, pks, need: Need = "view", include_trashed: bool = False) -> list[Song]:
    """Several songs at once (bulk actions): all or nothing, with the single getter's answers."""
    songs = list(
        Song.objects.select_related("transform", "project").filter(pk__in=set(pks)).order_by("pk")
    )
    if not songs or len(songs) != len(set(pks)):
        raise Http404("No such song.")
    roles = {}
    if user.is_authenticated:
        roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    for song in songs:
        if (song.deleted_at is not None and not include_trashed) or song.project_id not in roles:
            raise Http404("No such song.")
        if roles[song.project_id] not in _ROLES_FOR[need]:
            raise PermissionDenied(f"Your role in “{song.project}” cannot do this.")
    return songs


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their projects, by project name: one query for a page's menus."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user).select_related("project").order_by("project__name", "project_id")
    )


def get_transform_for(user, pk: int, need: Need = "view") -> Transform:
    transform = Transform.objects.select_related("project").filter(pk=pk).first()
    if transform is None:
        raise Http404("No such request.")
    check_role(user, transform.project_id, need)
    return transform


def get_upload_for(user, pk: int, need: Need = "view") -> Upload:
    """The upload with the user's `role` in its project."""
    upload = (Upload.objects.select_related("project").annotate(role=_role_of(user))
              .filter(pk=pk, deleted_at__isnull=True).first())
    if upload is None:
        raise Http404("No such upload.")
    _require(upload.role, need)
    return upload


def get_arrangement_for(user, pk: int, need: Need = "view") -> Arrangement:
    arrangement = Arrangement.objects.select_related("project").filter(pk=pk).first()
    if arrangement is None:
        raise Http404("No such arrangement.")
    check_role(user, arrangement.project_id, need)
    return arrangement


def get_region_for(user, arrangement_pk: int, pk: int, need: Need = "edit") -> Region:
    """One region of the arrangement the URL names (a region of another arrangement is 404)."""
    arrangement = get_arrangement_for(user, arrangement_pk, need)
    region = Region.objects.select_related("song").filter(pk=pk, arrangement=arrangement).first()
    if region is None:
        raise Http404("No such region.")
    region.arrangement = arrangement
    return region


def get_palette_for(user, pk: int, need: Need = "view") -> Palette:
    palette = Palette.objects.select_related("project").filter(pk=pk).first()
    if palette is None:
        raise Http404("No such palette.")
    check_role(user, palette.project_id, need)
    return palette


def get_lyrics_draft_for(user, pk: int, need: Need = "edit") -> LyricsDraft:
    draft = LyricsDraft.objects.filter(pk=pk).first()
    if draft is None:
        raise Http404("No such lyrics draft.")
    check_role(user, draft.project_id, need)
    return draft


def get_membership_for(user, project_id: int, pk: int, need: Need = "own") -> Membership:
    """Another member's row in a project, for owners to change or remove."""
    check_role(user, project_id, need)
    membership = (
        Membership.objects.select_related("user", "project").filter(pk=pk, project_id=project_id).first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


def get_invitation_for(user, pk: int, need: Need = "own") -> Invitation:
    invitation = Invitation.objects.select_related("project").filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation.")
    check_role(user, invitation.project_id, need)
    return invitation


def get_invitation_by_token(token: str) -> Invitation:
    """The invitation its link names, while unused and unexpired; anyone holding it may look."""
    invitation = Invitation.objects.select_related("project", "invited_by").filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        raise Http404("This invitation is not valid any more.")
    return invitation


def get_guest_link_for(user, pk: int, need: Need = "edit") -> GuestLink:
    link = GuestLink.objects.select_related("song").filter(pk=pk).first()
    if link is None or link.song.deleted_at is not None:
        raise Http404("No such guest link.")
    check_role(user, link.song.project_id, need)
    return link


def get_song_by_guest_token(token: str) -> tuple[Song, GuestLink]:
    """The song a guest link opens: 404 once revoked or expired, or when the song is trashed."""
    link = (
        GuestLink.objects.select_related("song", "song__transform")
        .filter(token=token, song__deleted_at__isnull=True)
        .first()
    )
    if link is None or not link.is_active:
        raise Http404("This link does not work any more.")
    return link.song, link
