"""The song page's queries: a fixed few, and the family tree's a query per generation, not one per relative."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from riffweb.playlists.models import Playlist
from riffweb.review.models import Comment
from riffweb.studio.models import Palette, Transform
from tests.conftest import finish_song, make_request


def queries_for(client, song) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(song.get_absolute_url()).status_code == 200
    return len(ctx.captured_queries)


def cover_of(song, owner):
    return make_request(song.project, owner, mode=Transform.Mode.COVER, source_song=song)


def test_many_relatives_cost_no_more_queries_than_one(owner_client, project, owner):
    parent = finish_song(make_request(project, owner).songs.get(variant=0))
    first = finish_song(cover_of(parent, owner).songs.get(variant=0))
    with_one_cover = queries_for(owner_client, first)
    for _ in range(5):
        cover_of(parent, owner)
    page = owner_client.get(first.get_absolute_url()).content.decode()
    assert page.count("family-request") == 6
    # 10: session, user, the song with the reader's role, its variants with their source, the
    # service's state (a variant is unfinished), the family's one generation below its root
    # (nothing was made from those songs), the song's comments and the top bar's unread count;
    # and for an editor, the project's playlists to add to and its palettes beside the form.
    assert queries_for(owner_client, first) == with_one_cover <= 10


def add_comments(song, author, mentioned, replier, count: int):
    for i in range(count):
        thread = Comment.objects.post(song=song, author=author, text=f"@{mentioned.username} the bridge {i}",
                                      at=i / 10)
        Comment.objects.post(song=song, author=replier, text=f"@{author.username} agreed", parent=thread)


def test_a_team_members_song_page_costs_at_most_ten_queries_however_many_comments_and_relatives(
        client, project, owner, editor, viewer):
    # A song as a team leaves it: made from another song, covered twice itself, a cousin beside
    # it, comments that name members and their replies, the project's playlists and palettes.
    parent = finish_song(make_request(project, owner).songs.get(variant=0))
    song = [finish_song(s) for s in cover_of(parent, owner).songs.order_by("variant")][0]
    finish_song(cover_of(parent, editor).songs.get(variant=0))
    for _ in range(2):
        finish_song(cover_of(song, editor).songs.get(variant=0))
    add_comments(song, owner, editor, viewer, 3)
    Playlist.objects.create(project=project, name="Set list", created_by=owner)
    Palette.objects.create(project=project, name="Dusk", tags="lo-fi")
    client.force_login(editor)
    page = client.get(song.get_absolute_url()).content.decode()
    assert page.count("family-request") == 4 and "Set list" in page and "Dusk" in page
    assert page.count('class="mention"') == 6
    few = queries_for(client, song)
    # session, user, the song with the reader's role, its variants with their source, the
    # palettes, a query per generation of the family below its root that has children (two),
    # the playlists, the comments with their mentions, the top bar's unread count.
    assert few <= 10
    add_comments(song, editor, owner, viewer, 7)
    for _ in range(3):
        finish_song(cover_of(song, owner).songs.get(variant=0))
        finish_song(cover_of(parent, owner).songs.get(variant=1))
    page = client.get(song.get_absolute_url()).content.decode()
    assert page.count("family-request") == 10
    assert queries_for(client, song) == few
