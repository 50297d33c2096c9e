"""Who may open a playlist or its guest links: the project's rights (riffweb.studio.access), for
playlists."""

from django.http import Http404

from riffweb.playlists.models import Playlist, PlaylistLink
from riffweb.studio import access


def get_playlist_for(user, pk: int, need: access.Need = "view") -> Playlist:
    playlist = Playlist.objects.select_related("project").filter(pk=pk).first()
    if playlist is None:
        raise Http404("No such playlist.")
    access.check_role(user, playlist.project_id, need)
    return playlist


def get_playlist_link_for(user, pk: int, need: access.Need = "edit") -> PlaylistLink:
    link = PlaylistLink.objects.select_related("playlist").filter(pk=pk).first()
    if link is None:
        raise Http404("No such guest link.")
    access.check_role(user, link.playlist.project_id, need)
    return link


def get_playlist_by_guest_token(token: str) -> tuple[Playlist, PlaylistLink]:
    """The playlist a guest link opens: 404 once revoked or expired."""
    link = PlaylistLink.objects.select_related("playlist").filter(token=token).first()
    if link is None or not link.is_active:
        raise Http404("This link does not work any more.")
    return link.playlist, link
