"""Takes: every member marks each song keeper, maybe or reject; cards, song pages and library rows
show the tally and my mark; the library filters and sorts by them; the shortlist orders keepers."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from riffweb.studio.models import Song
from riffweb.takes.models import ShortlistSpot, Take
from tests.conftest import finish_song, make_request

LIBRARY = reverse("library:song_list")
HTMX = {"HX-Request": "true"}


def vote(client, song, mark, **headers):
    return client.post(reverse("takes:take", args=[song.pk]), {"mark": mark}, headers=headers)


def pressed(html: str) -> list[str]:
    return re.findall(r'aria-pressed="true">(\w+)<', html)


@pytest.fixture
def song(project, owner):
    return finish_song(make_request(project, owner, title="Harbour lights").songs.get(variant=0))


def test_a_viewer_votes_changes_and_removes_their_mark(client, viewer, song):
    client.force_login(viewer)
    html = vote(client, song, "keeper", **HTMX).content.decode()
    assert "1 keeper · 0 maybe · 0 rejects" in html and pressed(html) == ["Keeper"]
    html = vote(client, song, "reject", **HTMX).content.decode()
    assert "0 keepers · 0 maybe · 1 reject" in html and pressed(html) == ["Reject"]
    assert Take.objects.filter(song=song).count() == 1  # one vote per member per song
    html = vote(client, song, "", **HTMX).content.decode()
    assert "0 keepers · 0 maybe · 0 rejects" in html and pressed(html) == []


def test_without_javascript_a_vote_goes_back_to_the_page_it_came_from(client, editor, song):
    client.force_login(editor)
    response = client.post(reverse("takes:take", args=[song.pk]), {"mark": "maybe", "next": LIBRARY})
    assert response.status_code == 302 and response["Location"] == LIBRARY
    response = client.post(reverse("takes:take", args=[song.pk]), {"mark": "maybe", "next": "https://evil.example/"})
    assert response["Location"] == song.get_absolute_url()


def test_an_unknown_mark_is_refused_with_a_message(client, viewer, song):
    client.force_login(viewer)
    html = vote(client, song, "masterpiece", **HTMX).content.decode()
    assert "Mark a take keeper, maybe or reject." in html
    assert not Take.objects.exists()


def test_strangers_cannot_vote(client, stranger, song):
    client.force_login(stranger)
    assert vote(client, song, "keeper").status_code == 404
    assert not Take.objects.exists()


def test_cards_and_song_page_show_the_tally_and_my_own_mark(client, owner, editor, viewer, song):
    for user, mark in ((owner, "keeper"), (editor, "keeper"), (viewer, "reject")):
        Take.objects.cast(song, user, mark)
    client.force_login(viewer)
    for url in (song.project.get_absolute_url(), song.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "2 keepers · 0 maybe · 1 reject" in html, url
        assert pressed(html) == ["Reject"], url


def test_the_library_filters_and_sorts_by_takes(owner_client, owner, editor, project):
    songs = {title: finish_song(make_request(project, owner, title=title).songs.get(variant=0))
             for title in ("Keeper twice", "Keeper once", "Rejected", "Nobody voted")}
    Take.objects.cast(songs["Keeper twice"], owner, "keeper")
    Take.objects.cast(songs["Keeper twice"], editor, "keeper")
    Take.objects.cast(songs["Keeper once"], editor, "keeper")
    Take.objects.cast(songs["Rejected"], editor, "reject")
    Song.objects.filter(variant=1).delete()  # one take per title, so that titles name them

    def shown(**params) -> list[str]:
        html = owner_client.get(LIBRARY, params).content.decode()
        return [t for t in re.findall(r"<h3><a [^>]+>([^<]+)</a>", html) if t in songs]

    assert set(shown(takes="keepers")) == {"Keeper twice", "Keeper once"}
    assert set(shown(takes="mine")) == {"Keeper twice"}
    assert set(shown(takes="rejected")) == {"Rejected"}
    assert "Nobody voted" in shown(takes="undecided") and "Keeper once" not in shown(takes="undecided")
    assert "Keeper twice" not in shown(takes="unmarked_by_me")
    assert shown(sort="keepers")[:2] == ["Keeper twice", "Keeper once"]
    assert shown(sort="keepers")[-1] == "Rejected"


def test_votes_cost_the_library_no_extra_queries_per_row(owner_client, owner, editor, viewer, project):
    def queries(params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(LIBRARY, params).status_code == 200
        return len(captured)

    finish_song(make_request(project, owner).songs.get(variant=0))
    few = [queries({}), queries({"takes": "keepers", "sort": "keepers"})]
    for _ in range(20):
        song = finish_song(make_request(project, owner).songs.get(variant=0))
        for user, mark in ((owner, "keeper"), (editor, "maybe"), (viewer, "reject")):
            Take.objects.cast(song, user, mark)
    assert [queries({}), queries({"takes": "keepers", "sort": "keepers"})] == few
    assert max(few) <= 10


def test_the_shortlist_lists_keepers_in_the_order_editors_put_them(client, owner, editor, viewer, project):
    a, b, c = (finish_song(make_request(project, owner, title=t).songs.get(variant=0)) for t in ("Aa", "Bb", "Cc"))
    maybe = finish_song(make_request(project, owner, title="Just maybe").songs.get(variant=0))
    for song in (a, b, c):
        Take.objects.cast(song, viewer, "keeper")
    Take.objects.cast(maybe, viewer, "maybe")
    url, order_url = (reverse(name, args=[project.pk]) for name in ("takes:shortlist", "takes:shortlist_order"))

    def order() -> list[str]:
        html = client.get(url).content.decode()
        return re.findall(r"<h3><a [^>]+>(\w+)</a>", html)

    client.force_login(viewer)
    assert order() == ["Cc", "Bb", "Aa"]  # newest first until the team orders them
    assert client.post(order_url, {"order": [a.pk, b.pk, c.pk]}).status_code == 403
    client.force_login(editor)
    assert client.get(url).content.decode().count(f'hx-post="{order_url}"') == 4  # the drag's form, each song's
    assert client.post(order_url, {"order": [a.pk, b.pk, c.pk]}).status_code == 302  # by drag
    assert order() == ["Aa", "Bb", "Cc"]
    html = client.post(order_url, {"item": c.pk, "move": "up"}, headers=HTMX).content.decode()  # by keyboard
    assert html.lstrip().startswith('<section id="shortlist"')
    assert order() == ["Aa", "Cc", "Bb"]
    Take.objects.cast(c, editor, "reject")
    Take.objects.cast(c, owner, "reject")  # now more rejects than keepers: off the shortlist
    assert order() == ["Aa", "Bb"]
    assert ShortlistSpot.objects.count() == 3


def test_a_bad_order_is_refused_with_a_message(client, editor, project):
    client.force_login(editor)
    url = reverse("takes:shortlist_order", args=[project.pk])
    for data in ({"order": ["x"]}, {"order": [2**70]}, {}, {"item": 1, "move": "sideways"}):
        response = client.post(url, data, headers=HTMX)
        assert response.status_code == 200 and 'role="alert"' in response.content.decode(), data


def test_the_songs_counters_follow_every_change_and_a_recount_agrees(owner, editor, viewer, song):
    from riffweb.takes.models import recount

    for user, mark in ((owner, "keeper"), (editor, "keeper"), (viewer, "maybe"), (editor, "reject"),
                       (viewer, "maybe"), (owner, ""), (viewer, "keeper")):
        Take.objects.cast(song, user, mark)
    song.refresh_from_db()
    assert (song.keepers, song.maybes, song.rejects) == (1, 0, 1)
    Song.objects.filter(pk=song.pk).update(keepers=9, maybes=9, rejects=9)  # as after a bulk load
    assert recount(Song.objects.filter(pk=song.pk)) == 1
    song.refresh_from_db()
    assert (song.keepers, song.maybes, song.rejects) == (1, 0, 1)
