"""Every URL of riffweb, for every kind of visitor: the status each one gets.

Pages, partials (sent as htmx requests), form posts, audio and zip downloads, guest pages.

The rows are walked from riffweb's own URL resolver: a URL added without rows here fails
`test_every_url_has_rows`. Semantics: a stranger (logged in, not a member) gets 404, as if the
object did not exist; anonymous visitors are sent to log in; a member whose role is too small
gets 403. Guest pages answer anyone holding a live link and 404 once it is revoked.

Columns: owner, editor, viewer, stranger, anonymous, guest (anonymous, holding a live guest
link or other token), revoked (anonymous, holding a revoked link or a bad token).
"""

from dataclasses import dataclass, field
from functools import partial
from datetime import timedelta
from typing import Callable

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from riffweb.playlists.models import Playlist, PlaylistLink
from riffweb.review.mail import unsubscribe_token
from riffweb.review.models import Comment, Notification
from riffweb.studio.models import (
    Arrangement, GuestLink, Invitation, LyricsDraft, Membership, Palette, Project, SongFile, Upload,
)
from riffweb.upstream.callbacks import reply_ref
from tests.conftest import finish_song, jpeg, make_request, make_user, tone_wav

COLUMNS = ["owner", "editor", "viewer", "stranger", "anonymous", "guest", "revoked"]
LOGIN = "login"  # a 302 to the log-in page
# Not ours to guard: Django's admin and its authentication views.
SKIPPED_NAMESPACES = {"admin"}
SKIPPED_NAMES = {"login", "logout", "password_change", "password_change_done"}


@dataclass
class World:
    owner: object
    editor: object
    viewer: object
    stranger: object
    project: Project
    other: Project  # where owner and editor may also edit: a move target
    song: object
    trashed: object
    upload: Upload
    live_link: GuestLink
    revoked_link: GuestLink
    invitation: Invitation
    used_invitation: Invitation
    offer: Invitation  # an in-app invitation waiting for the stranger's answer
    viewer_membership: Membership
    draft: LyricsDraft  # "Write lyrics for me", written
    making: object  # a song still being made, with the service's preview of it so far
    playlist: Playlist  # holding `song`
    playlist_link: PlaylistLink
    revoked_playlist_link: PlaylistLink
    comment: Comment  # the viewer's comment on the song
    notification: Notification  # the owner's: the viewer commented on the owner's song
    commenting_link: GuestLink  # a guest link that takes comments (live_link does not)
    arrangement: Arrangement  # one region of `song`
    region: object
    palette: Palette

    def link(self, col: str) -> str:
        return (self.revoked_link if col == "revoked" else self.live_link).token

    def playlist_token(self, col: str) -> str:
        return (self.revoked_playlist_link if col == "revoked" else self.playlist_link).token

    def commenting(self, col: str) -> str:
        return (self.revoked_link if col == "revoked" else self.commenting_link).token

    def invite(self, col: str) -> str:
        return (self.used_invitation if col == "revoked" else self.invitation).token


@pytest.fixture
def world(db) -> World:
    owner, editor, viewer, stranger = (make_user(n) for n in ("olivia", "ed", "vera", "sam"))
    project = Project.create_for(owner, name="Night drive")
    Membership.objects.create(project=project, user=editor, role="editor")
    viewer_membership = Membership.objects.create(project=project, user=viewer, role="viewer")
    other = Project.create_for(owner, name="B-sides")
    Membership.objects.create(project=other, user=editor, role="editor")
    Project.create_for(stranger, name="Sam's own")
    transform = make_request(project, owner)
    song = finish_song(transform.songs.get(variant=0))
    song.timed_lyrics = [{"text": "City lights", "start": 0.5, "end": 1.5}]
    song.save(update_fields=["timed_lyrics"])
    draft = LyricsDraft.objects.create(project=project, created_by=owner, prompt="rain", dialect="useapi")
    draft.mark_done("[Verse]\nRain on the window")
    trashed = finish_song(transform.songs.get(variant=1))
    song.cover.save("cover.jpg", ContentFile(jpeg()), save=True)
    making = make_request(project, owner).songs.get(variant=0)
    making.status = "running"
    making.partial_format = "wav"
    making.partial.save("partial.wav", ContentFile(tone_wav()), save=True)
    trashed.deleted_at = timezone.now()
    trashed.save(update_fields=["deleted_at"])
    upload = Upload(project=project, created_by=owner, title="Demo", audio_format="wav",
                    duration=2.0, status=Upload.Status.READY)
    upload.audio.save("upload.wav", ContentFile(tone_wav()), save=True)
    kept = SongFile(song=song, kind=SongFile.Kind.WAV, status=SongFile.Status.READY, size=1)
    kept.file.save("song.wav", ContentFile(tone_wav()), save=True)
    live = GuestLink.objects.create(song=song, created_by=owner, allow_download=True)
    revoked = GuestLink.objects.create(song=song, created_by=owner, revoked_at=timezone.now())
    invitation = Invitation.objects.create(project=project, email="new@example.org", invited_by=owner)
    used = Invitation.objects.create(project=project, email="old@example.org", invited_by=owner,
                                     accepted_at=timezone.now() - timedelta(days=1))
    offer = Invitation.objects.create(project=project, username="sam", user=stranger, invited_by=owner)
    playlist = Playlist.objects.create(project=project, name="Set list", created_by=owner)
    playlist.add(song, by=owner)
    playlist_link = PlaylistLink.objects.create(playlist=playlist, created_by=owner)
    revoked_playlist_link = PlaylistLink.objects.create(playlist=playlist, created_by=owner, revoked_at=timezone.now())
    comment = Comment.objects.post(song=song, author=viewer, text="Louder here", at=0.5, end=1.5)
    arrangement = Arrangement.objects.create(project=project, name="Best bits", created_by=owner)
    region = arrangement.add_region(song, 0.0, 1.5)
    palette = Palette.objects.create(project=project, name="Dusk", tags="lo-fi, warm", weirdness=0.3)
    return World(owner, editor, viewer, stranger, project, other, song, trashed, upload, live,
                 revoked, invitation, used, offer, viewer_membership, draft, making, playlist, playlist_link,
                 revoked_playlist_link, comment, Notification.objects.get(user=owner, comment=comment),
                 GuestLink.objects.create(song=song, created_by=owner, allow_comments=True),
                 arrangement, region, palette)


@dataclass
class Row:
    name: str
    method: str
    url: Callable[[World, str], str]
    expect: dict[str, int | str]
    data: Callable[[World], dict] = field(default=lambda w: {})
    htmx: str | None = None  # sent as an htmx request with this HX-Target: the partial's branch


def _cols(**statuses) -> dict:
    assert set(statuses) == set(COLUMNS), set(COLUMNS) ^ set(statuses)
    return statuses


def members(ok=200, editor=None, viewer=None) -> dict:
    """A project's page or action: members get `ok` (or their own), the rest the usual."""
    return _cols(owner=ok, editor=ok if editor is None else editor, viewer=ok if viewer is None else viewer,
                 stranger=404, anonymous=LOGIN, guest=LOGIN, revoked=LOGIN)


def editors(ok=302) -> dict:
    return members(ok, viewer=403)


def owners(ok=302) -> dict:
    return members(ok, editor=403, viewer=403)


def logged_in(ok=200) -> dict:
    return _cols(owner=ok, editor=ok, viewer=ok, stranger=ok, anonymous=LOGIN, guest=LOGIN, revoked=LOGIN)


def token_holders(ok=200, bad=404) -> dict:
    """Whoever holds the token gets in, with or without an account; a bad or revoked one is 404."""
    return _cols(owner=ok, editor=ok, viewer=ok, stranger=ok, anonymous=ok, guest=ok, revoked=bad)


def everyone(ok=200) -> dict:
    return token_holders(ok, ok)


def pk(attr: str, *extra: str) -> Callable[[World, str], list]:
    def args(w: World, col: str) -> list:
        return [getattr(w, attr).pk, *extra]
    return args


def at(name: str, args=None) -> Callable[[World, str], str]:
    return lambda w, col: reverse(name, args=args(w, col) if args else None)


ROWS = [
    # Accounts (riffweb's own; Django's auth views are skipped by name).
    Row("signup", "GET", at("signup"), everyone(404)),  # sign-up is off by default
    Row("healthz", "GET", at("healthz"), everyone(200)),
    # Studio: projects.
    Row("studio:project_list", "GET", at("studio:project_list"), logged_in()),
    Row("studio:project_create", "GET", at("studio:project_create"), logged_in()),
    Row("studio:project_create", "POST", at("studio:project_create"), logged_in(302),
        data=lambda w: {"name": "Fresh"}),
    Row("studio:project_detail", "GET", at("studio:project_detail", pk("project")), members()),
    Row("studio:professional_create", "POST", at("studio:professional_create", pk("project")), editors(200)),
    Row("studio:generate", "POST", at("studio:generate", pk("project", "inspiration")), editors(200)),
    Row("studio:upload_create", "POST", at("studio:upload_create", pk("project")), editors(200)),
    # Studio: songs, their partials and files.
    Row("studio:song_detail", "GET", at("studio:song_detail", pk("song")), members()),
    Row("studio:song_detail", "GET", at("studio:song_detail", pk("song")), members(), htmx="transform-form"),
    # The cards' one poll: a finished song stops it; a song one may not see is left out (286 too).
    Row("studio:song_status", "GET", lambda w, col: f"{reverse('studio:song_status')}?card={w.song.pk}:0",
        logged_in(286)),
    Row("studio:song_audio", "GET", at("studio:song_audio", pk("song")), members()),
    Row("studio:song_download", "GET", at("studio:song_download", pk("song")), members()),
    Row("studio:song_lyrics_lrc", "GET", at("studio:song_lyrics_lrc", pk("song")), members()),
    # "Write lyrics for me": only those who may edit the project ask, and watch the draft. The
    # test site's service (dialect A) writes no lyrics: a plain post is refused with the reason.
    Row("studio:lyrics_draft_create", "POST", at("studio:lyrics_draft_create", pk("project")), editors(400),
        data=lambda w: {"lyrics_prompt": "harbour lights"}),
    Row("studio:lyrics_draft_create", "POST", at("studio:lyrics_draft_create", pk("project")), editors(200),
        data=lambda w: {"lyrics_prompt": "harbour lights"}, htmx="lyrics-help"),
    Row("studio:lyrics_draft_status", "GET", at("studio:lyrics_draft_status", pk("draft")), editors(286),
        htmx="lyrics-help"),
    Row("studio:song_partial", "GET", at("studio:song_partial", pk("making")), members()),
    Row("studio:song_cover", "GET", at("studio:song_cover", pk("song")), members()),
    Row("studio:song_retry", "POST", at("studio:song_retry", pk("song")), editors(302)),
    # WAV and stems: viewers may ask too. The matrix runs on dialect A, which has no such
    # download: the ask is refused with the reason (400); the kept WAV is served.
    Row("studio:song_files", "GET", at("studio:song_files", pk("song")), members(286)),
    Row("studio:song_file_ask", "POST", at("studio:song_file_ask", pk("song", "wav")), members(400)),
    Row("studio:song_file", "GET", at("studio:song_file", pk("song", "wav")), members()),
    Row("studio:song_transform", "POST", at("studio:song_transform", pk("song", "cover")), editors(200)),
    # Studio: the arranger. Editors build and render; every member sees the lane and previews it.
    Row("studio:arrangement_create", "POST", at("studio:arrangement_create", pk("project")), editors(),
        data=lambda w: {"name": "Medley"}),
    Row("studio:arrangement_detail", "GET", at("studio:arrangement_detail", pk("arrangement")), members()),
    Row("studio:region_add", "POST", at("studio:region_add", pk("arrangement")), editors(),
        data=lambda w: {"song": w.song.pk, "start": 0.5, "end": 1.5}),
    Row("studio:region_change", "POST",
        at("studio:region_change", lambda w, col: [w.arrangement.pk, w.region.pk]), editors(),
        data=lambda w: {"start": 0.2, "end": 1.2, "crossfade": 0}),
    Row("studio:arrangement_render", "POST", at("studio:arrangement_render", pk("arrangement")), editors(),
        data=lambda w: {"idempotency_key": "6f1c2a52-0d6c-4d1e-9a53-8f7f4f0a3b21"}),
    # Studio: palettes. Every member sees one; editors save, change and delete them.
    Row("studio:palette_create", "POST", at("studio:palette_create", pk("project")), editors(),
        data=lambda w: {"palette_name": "Dawn", "tags": "ambient"}),
    Row("studio:palette_detail", "GET", at("studio:palette_detail", pk("palette")), members()),
    Row("studio:palette_detail", "POST", at("studio:palette_detail", pk("palette")), editors(),
        data=lambda w: {"palette_name": "Dusk 2", "tags": "lo-fi"}),
    Row("studio:palette_delete", "POST", at("studio:palette_delete", pk("palette")), editors()),
    # Studio: uploads.
    Row("studio:upload_detail", "GET", at("studio:upload_detail", pk("upload")), members()),
    Row("studio:upload_audio", "GET", at("studio:upload_audio", pk("upload")), members()),
    Row("studio:upload_transform", "POST", at("studio:upload_transform", pk("upload", "cover")), editors(200)),
    # Teams: members, roles, invitations, leaving.
    Row("teams:member_list", "GET", at("teams:member_list", pk("project")), members()),
    Row("teams:member_invite", "POST", at("teams:member_invite", pk("project")), owners(),
        data=lambda w: {"who": "someone@example.org", "role": "viewer"}),
    Row("teams:member_invite", "POST", at("teams:member_invite", pk("project")), owners(200),
        data=lambda w: {"who": "someone@example.org", "role": "viewer"}, htmx="members"),
    Row("teams:member_role", "POST",
        at("teams:member_role", lambda w, col: [w.project.pk, w.viewer_membership.pk]), owners(),
        data=lambda w: {"role": "editor"}),
    Row("teams:member_remove", "POST",
        at("teams:member_remove", lambda w, col: [w.project.pk, w.viewer_membership.pk]), owners()),
    Row("teams:member_leave", "POST", at("teams:member_leave", pk("project")), members(302)),
    Row("teams:project_delete", "POST", at("teams:project_delete", pk("project")), owners(),
        data=lambda w: {"confirm": w.project.name}),
    Row("teams:invitation_revoke", "POST", at("teams:invitation_revoke", pk("invitation")), owners()),
    # The link is bound to the invited address (new@example.org): any other account is refused
    # (403); without an account the sign-up form is shown (200, and again after an empty POST).
    Row("teams:invitation_accept", "GET", at("teams:invitation_accept", lambda w, col: [w.invite(col)]),
        _cols(owner=403, editor=403, viewer=403, stranger=403, anonymous=200, guest=200, revoked=404)),
    Row("teams:invitation_accept", "POST", at("teams:invitation_accept", lambda w, col: [w.invite(col)]),
        _cols(owner=403, editor=403, viewer=403, stranger=403, anonymous=200, guest=200, revoked=404)),
    # An in-app invitation: only the invited account (the stranger here) answers it.
    Row("teams:invitation_join", "POST", at("teams:invitation_join", pk("offer")),
        _cols(owner=404, editor=404, viewer=404, stranger=302, anonymous=LOGIN, guest=LOGIN, revoked=LOGIN)),
    Row("teams:invitation_decline", "POST", at("teams:invitation_decline", pk("offer")),
        _cols(owner=404, editor=404, viewer=404, stranger=302, anonymous=LOGIN, guest=LOGIN, revoked=LOGIN)),
    # Teams: sharing and guest links.
    Row("teams:song_sharing", "GET", at("teams:song_sharing", pk("song")), members()),
    Row("teams:song_sharing", "GET", at("teams:song_sharing", pk("song")), members(), htmx="song-sharing"),
    Row("teams:guest_link_create", "POST", at("teams:guest_link_create", pk("song")), editors(),
        data=lambda w: {"expires_in": "7"}),
    Row("teams:guest_link_revoke", "POST", at("teams:guest_link_revoke", pk("live_link")), editors()),
    Row("teams:guest_song", "GET", at("teams:guest_song", lambda w, col: [w.link(col)]), token_holders()),
    Row("teams:guest_audio", "GET", at("teams:guest_audio", lambda w, col: [w.link(col)]), token_holders()),
    Row("teams:guest_download", "GET", at("teams:guest_download", lambda w, col: [w.link(col)]),
        token_holders()),
    Row("teams:guest_lyrics", "GET", at("teams:guest_lyrics", lambda w, col: [w.link(col)]), token_holders()),
    Row("teams:guest_cover", "GET", at("teams:guest_cover", lambda w, col: [w.link(col)]), token_holders()),
    # Review: any member comments (viewers too); only its author edits a comment; its author
    # or an editor resolves or removes it.
    Row("review:comment_create", "POST", at("review:comment_create", pk("song")), members(302),
        data=lambda w: {"at": "0.5", "text": "Nice"}),
    Row("review:comment_create", "POST", at("review:comment_create", pk("song")), members(200),
        data=lambda w: {"at": "0.5", "text": "Nice"}, htmx="comments"),
    Row("review:comment_edit", "POST", at("review:comment_edit", pk("comment")),
        members(302, editor=403) | {"owner": 403}, data=lambda w: {"text": "Softer"}),
    Row("review:comment_resolve", "POST", at("review:comment_resolve", pk("comment")), members(302)),
    Row("review:comment_delete", "POST", at("review:comment_delete", pk("comment")), members(302)),
    Row("review:comment_delete", "POST", at("review:comment_delete", pk("comment")), members(200), htmx="comments"),
    Row("review:project_activity", "GET", at("review:project_activity", pk("project")), members()),
    # Guests comment through a link that takes comments (whoever holds it); a listen-only link
    # refuses (403); a revoked one is 404.
    Row("review:guest_comment_create", "POST",
        at("review:guest_comment_create", lambda w, col: [w.commenting(col)]), token_holders(302),
        data=lambda w: {"name": "Nina", "at": "0.5", "text": "Lovely"}),
    Row("review:guest_comment_create", "POST",
        at("review:guest_comment_create", lambda w, col: [w.link(col)]), token_holders(403),
        data=lambda w: {"name": "Nina", "at": "0.5", "text": "Lovely"}),
    # E-mail: one's own choice; the unsubscribe link works for whoever holds it, without an account.
    Row("review:email_preference", "GET", at("review:email_preference"), logged_in()),
    Row("review:email_preference", "POST", at("review:email_preference"), logged_in(302),
        data=lambda w: {"mode": "digest"}),
    Row("review:email_unsubscribe", "POST", at("review:email_unsubscribe", lambda w, col: [
        "forged" if col == "revoked" else unsubscribe_token(w.owner)]), token_holders()),
    Row("review:email_unsubscribe", "GET", at("review:email_unsubscribe", lambda w, col: [
        "forged" if col == "revoked" else unsubscribe_token(w.owner)]), token_holders()),
    # One's own inbox: a notification is its user's alone (anyone else: 404).
    Row("review:inbox", "GET", at("review:inbox"), logged_in()),
    Row("review:inbox_read_all", "POST", at("review:inbox_read_all"), logged_in(302)),
    Row("review:notification_read", "POST", at("review:notification_read", pk("notification")),
        _cols(owner=302, editor=404, viewer=404, stranger=404, anonymous=LOGIN, guest=LOGIN, revoked=LOGIN)),
    # Library: the list, bulk actions, the zip, the trash, one song's actions.
    Row("library:song_list", "GET", at("library:song_list"), logged_in()),
    Row("library:song_list", "GET", at("library:song_list"), logged_in(), htmx="song-list"),
    Row("library:trash", "GET", at("library:trash"), logged_in()),
    Row("library:bulk", "POST", at("library:bulk"), editors(),
        data=lambda w: {"songs": [w.song.pk], "action": "trash"}),
    Row("library:download_zip", "POST", at("library:download_zip"), members(),
        data=lambda w: {"songs": [w.song.pk]}),
    Row("library:song_edit", "GET", at("library:song_edit", pk("song")), editors(200)),
    Row("library:song_edit", "GET", at("library:song_edit", pk("song")), editors(200), htmx="song-row"),
    Row("library:song_rename", "POST", at("library:song_rename", pk("song")), editors(),
        data=lambda w: {"title": "Renamed"}),
    Row("library:song_rename", "POST", at("library:song_rename", pk("song")), editors(200),
        data=lambda w: {"title": "Renamed"}, htmx="song-row"),
    Row("library:song_labels", "POST", at("library:song_labels", pk("song")), editors(),
        data=lambda w: {"labels": "keeper"}),
    Row("library:song_favourite", "POST", at("library:song_favourite", pk("song")), members(302),
        data=lambda w: {"favourite": "1"}),
    Row("library:song_move", "POST", at("library:song_move", pk("song")), editors(),
        data=lambda w: {"project": w.other.pk}),
    Row("library:song_trash", "POST", at("library:song_trash", pk("song")), editors()),
    Row("library:song_restore", "POST", at("library:song_restore", pk("trashed")), editors()),
    # Takes: every member marks a take (viewers too); editors order the shortlist.
    Row("takes:take", "POST", at("takes:take", pk("song")), members(302), data=lambda w: {"mark": "keeper"}),
    Row("takes:take", "POST", at("takes:take", pk("song")), members(200), data=lambda w: {"mark": "keeper"},
        htmx="take"),
    Row("takes:shortlist", "GET", at("takes:shortlist", pk("project")), members()),
    Row("takes:shortlist_order", "POST", at("takes:shortlist_order", pk("project")), editors(),
        data=lambda w: {"order": [w.song.pk]}),
    Row("takes:shortlist_order", "POST", at("takes:shortlist_order", pk("project")), editors(200),
        data=lambda w: {"order": [w.song.pk]}, htmx="shortlist"),
    # Playlists: editors make and arrange them, every member listens, downloads and is remembered.
    Row("playlists:playlist_list", "GET", at("playlists:playlist_list", pk("project")), members()),
    Row("playlists:playlist_create", "POST", at("playlists:playlist_create", pk("project")), editors(),
        data=lambda w: {"name": "Encore"}),
    Row("playlists:playlist_detail", "GET", at("playlists:playlist_detail", pk("playlist")), members()),
    Row("playlists:playlist_delete", "POST", at("playlists:playlist_delete", pk("playlist")), editors()),
    Row("playlists:playlist_add", "POST", at("playlists:playlist_add"), editors(),
        data=lambda w: {"playlist": w.playlist.pk, "song": w.song.pk}),
    Row("playlists:playlist_remove", "POST",
        at("playlists:playlist_remove", lambda w, col: [w.playlist.pk, w.playlist.entry_ids()[0]]), editors()),
    Row("playlists:playlist_order", "POST", at("playlists:playlist_order", pk("playlist")), editors(),
        data=lambda w: {"order": w.playlist.entry_ids()}),
    Row("playlists:playlist_order", "POST", at("playlists:playlist_order", pk("playlist")), editors(200),
        data=lambda w: {"order": w.playlist.entry_ids()}, htmx="playlist-entries"),
    Row("playlists:playlist_download", "GET", at("playlists:playlist_download", pk("playlist")), members()),
    Row("playlists:playlist_position", "POST", at("playlists:playlist_position", pk("playlist")), members(204),
        data=lambda w: {"song": w.song.pk, "at": "0.5"}),
    Row("playlists:song_position", "POST", at("playlists:song_position", pk("song")), members(204),
        data=lambda w: {"at": "0.5"}),
    Row("playlists:playlist_link_create", "POST", at("playlists:playlist_link_create", pk("playlist")), editors(),
        data=lambda w: {"expires_in": "7"}),
    Row("playlists:playlist_link_revoke", "POST", at("playlists:playlist_link_revoke", pk("playlist_link")),
        editors()),
    Row("playlists:guest_playlist", "GET",
        at("playlists:guest_playlist", lambda w, col: [w.playlist_token(col)]), token_holders()),
    Row("playlists:guest_playlist_audio", "GET",
        at("playlists:guest_playlist_audio", lambda w, col: [w.playlist_token(col), w.song.pk]), token_holders()),
    # The upstream's own calls, authenticated not by a session but by the reference in the
    # callback's body, or the signature in the upload link.
    # Staff only (none of the columns is staff): how to fix the music service account.
    Row("upstream:attention", "GET", at("upstream:attention"), logged_in(403)),
    Row("upstream:callback", "POST", at("upstream:callback"), token_holders(),
        data=lambda w: {"replyRef": reply_ref(w.song.transform)}),
    Row("upstream:upload_file", "GET",
        at("upstream:upload_file", lambda w, col: [
            "bad" if col == "revoked" else signing.dumps(w.upload.pk, salt="riffweb.upstream.upload-file")]),
        token_holders()),
]


def url_names(patterns=None, prefix: str = ""):
    """Every URL name riffweb serves, namespaced; an unnamed pattern yields its route instead."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES:
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from url_names(pattern.url_patterns, namespace)
        elif pattern.name not in SKIPPED_NAMES:
            yield f"{prefix}{pattern.name}" if pattern.name else f"unnamed route {pattern.pattern}"


def test_every_url_has_rows():
    served, covered = set(url_names()), {row.name for row in ROWS}
    assert not served - covered, f"URLs without rows in the permission matrix: {sorted(served - covered)}"
    assert not covered - served, f"rows for URLs that no longer exist: {sorted(covered - served)}"


CELLS = [
    pytest.param(row, col, id=f"{row.name}-{row.method}{'-htmx' if row.htmx else ''}-{col}")
    for row in ROWS
    for col in COLUMNS
]


@pytest.mark.parametrize(("row", "col"), CELLS)
def test_permission_matrix(client, world, row: Row, col: str):
    user = getattr(world, col, None) if col in {"owner", "editor", "viewer", "stranger"} else None
    if user is not None:
        client.force_login(user)
    url = row.url(world, col)
    headers = {"HX-Request": "true", "HX-Target": row.htmx} if row.htmx else {}
    send = partial(client.post if row.method == "POST" else client.get, headers=headers)
    if row.name == "upstream:callback":
        data = {"replyRef": "1.wrong"} if col == "revoked" else row.data(world)
        response = client.post(url, data=data, content_type="application/json")
    else:
        response = send(url, row.data(world)) if row.method == "POST" else send(url)
    expected = row.expect[col]
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), (
            f"{row.method} {url} as {col}: {response.status_code}, expected a redirect to log in")
    else:
        assert response.status_code == expected, (
            f"{row.method} {url} as {col}: {response.status_code}, expected {expected}")
        if expected == 302:
            assert not response["Location"].startswith(reverse("login")), f"{url} as {col} asked to log in"
