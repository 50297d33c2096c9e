"""The song page's family tree costs a query per generation, not one per relative."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from riffweb.studio.models import Transform
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
    # 16: session, user, song, rights (twice), variants, the service's state (a variant is
    # unfinished), the family's ancestor, per generation the requests made from it and then
    # their songs (none below the last), the song's comments and the top bar's unread count; and
    # for an editor, the project's playlists to add to and its palettes beside the form.
    assert queries_for(owner_client, first) == with_one_cover <= 16
