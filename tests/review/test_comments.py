"""Comments on a song's timeline: who may write, edit, resolve and remove them; what the text
becomes; the rate limit; and the live list riding the page's one status poll."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from riffweb.review.models import Comment
from tests.conftest import add_member, finish_song, make_request

STATUS = reverse("studio:song_status")


@pytest.fixture
def song(project, owner):
    return finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)


def post(client, song, htmx=True, **data):
    headers = {"HX-Request": "true", "HX-Target": "comments"} if htmx else {}
    return client.post(reverse("review:comment_create", args=[song.pk]), data, headers=headers)


def live_inputs(page: str) -> list[str]:
    return re.findall(r'name="live" value="([^"]+)"', page)


def test_a_viewer_comments_on_a_region_and_it_is_listed_in_time_order(client, song, viewer, owner):
    client.force_login(viewer)
    post(client, song, at="12.0", text="Lovely chorus")
    answer = post(client, song, at="3.25", end="7.5", text="The drums drag here")
    page = answer.content.decode()
    assert answer.status_code == 200
    assert page.index("The drums drag here") < page.index("Lovely chorus")
    assert "0:03.2–0:07.5" in page or "0:03.3–0:07.5" in page
    region = Comment.objects.get(text="The drums drag here")
    assert (region.at, region.end, region.author) == (3.2, 7.5, viewer) or (region.at, region.end) == (3.3, 7.5)


def test_a_plain_form_post_redirects_back_to_the_comments(client, song, viewer):
    client.force_login(viewer)
    answer = post(client, song, htmx=False, at="1", text="Works without JavaScript")
    assert answer.status_code == 302 and answer["Location"].endswith(f"{song.get_absolute_url()}#comments")
    assert "Works without JavaScript" in client.get(song.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"at": "1", "text": "   "}, "Write something to comment."),
    ({"at": "1", "text": "x" * 2001}, "at most 2000 characters"),
    ({"at": "25", "text": "late"}, "within the song"),
    ({"at": "5", "end": "4", "text": "backwards"}, "within the song"),
    ({"at": "soon", "text": "when"}, "Times are seconds"),
])
def test_bad_input_is_refused_with_a_message(client, song, owner, data, message):
    client.force_login(owner)
    answer = post(client, song, **data)
    assert answer.status_code == 200 and message in answer.content.decode()
    assert not Comment.objects.exists()


def test_text_is_escaped_timestamps_seek_and_only_members_are_mentioned(client, song, owner, project):
    add_member(project, "ed", "editor")
    outsider = add_member(project, "temp", "viewer")
    outsider.memberships.all().delete()
    client.force_login(owner)
    page = post(client, song, at="1", text="<script>alert(1)</script> at 1:23, @ed and @temp").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f'data-seek="83" data-seek-in="song-{song.pk}">1:23</a>' in page
    assert '<strong class="mention">@ed</strong>' in page
    assert '<strong class="mention">@temp</strong>' not in page and "@temp" in page
    assert [u.username for u in Comment.objects.get().mentions.all()] == ["ed"]


def test_a_reply_shares_its_comments_place_and_shows_under_it(client, song, owner, viewer):
    client.force_login(owner)
    post(client, song, at="4", end="6", text="Too loud")
    parent = Comment.objects.get()
    client.force_login(viewer)
    page = post(client, song, parent=str(parent.pk), text="Agreed, lower it").content.decode()
    reply = Comment.objects.get(parent=parent)
    assert (reply.at, reply.end) == (4.0, 6.0)
    assert page.index("Too loud") < page.index("Agreed, lower it")
    assert 'class="replies"' in page


def test_only_the_author_edits_and_editors_or_the_author_resolve_and_delete(client, song, owner, viewer, editor,
                                                                             project):
    other_viewer = add_member(project, "vic", "viewer")
    client.force_login(viewer)
    post(client, song, at="2", text="First take")
    comment = Comment.objects.get()
    edit, delete, resolve = (reverse(f"review:comment_{verb}", args=[comment.pk]) for verb in ("edit", "delete", "resolve"))
    for user in (owner, editor, other_viewer):
        client.force_login(user)
        assert client.post(edit, {"text": "hijacked"}).status_code == 403
    client.force_login(other_viewer)
    assert client.post(resolve).status_code == 403 and client.post(delete).status_code == 403
    client.force_login(viewer)
    assert client.post(edit, {"text": "Second take"}).status_code == 302
    comment.refresh_from_db()
    assert comment.text == "Second take" and comment.edited_at is not None
    client.force_login(editor)
    assert client.post(resolve, {"resolved": "1"}).status_code == 302
    comment.refresh_from_db()
    assert comment.resolved
    assert "Reopen" in client.get(song.get_absolute_url()).content.decode()
    client.force_login(viewer)
    client.post(resolve, {"resolved": "0"})
    comment.refresh_from_db()
    assert not comment.resolved
    client.force_login(editor)
    assert client.post(delete).status_code == 302
    assert not Comment.objects.exists()


def test_strangers_see_no_comment_and_cannot_post(client, song, owner, stranger):
    client.force_login(owner)
    post(client, song, at="1", text="Members only")
    client.force_login(stranger)
    assert post(client, song, at="1", text="hello").status_code == 404
    comment = Comment.objects.get()
    assert client.post(reverse("review:comment_resolve", args=[comment.pk])).status_code == 404


def test_comments_are_rate_limited_per_member(client, song, owner, settings):
    settings.RIFFWEB_COMMENTS_PER_HOUR = 2
    client.force_login(owner)
    post(client, song, at="1", text="one")
    post(client, song, at="1", text="two")
    page = post(client, song, at="1", text="three").content.decode()
    assert "You have written 2 comments in the last hour" in page
    assert Comment.objects.count() == 2


def test_a_new_comment_reaches_another_members_page_within_one_poll(client, song, owner, viewer):
    """The song page keeps its one poll running for its comments: nothing new is a 204, a new
    comment comes back as an out-of-band swap of the list with the new version."""
    client.force_login(viewer)
    page = client.get(song.get_absolute_url()).content.decode()
    assert page.count('hx-trigger="every 1s"') == 1 and "[name='live']" in page
    live = live_inputs(page)  # the comments, and the top bar's inbox
    assert [value.split(":")[0] for value in live] == ["inbox", "comments"]
    headers = {"HX-Request": "true"}
    assert client.get(STATUS, {"live": live, "look": "player"}, headers=headers).status_code == 204
    Comment.objects.post(song=song, author=owner, text="Fresh thought", at=5)
    answer = client.get(STATUS, {"live": live, "look": "player"}, headers=headers)
    body = answer.content.decode()
    assert answer.status_code == 200 and "Fresh thought" in body
    assert f'id="comment-list-{song.pk}"' in body and 'hx-swap-oob="true"' in body
    [newer] = live_inputs(body)
    assert newer.startswith("comments:") and newer != live[1]
    newer = [live[0], newer]
    assert client.get(STATUS, {"live": newer, "look": "player"}, headers=headers).status_code == 204


def test_the_poll_answers_no_comments_of_songs_one_may_not_see(client, song, owner, stranger):
    Comment.objects.post(song=song, author=owner, text="Secret", at=1)
    client.force_login(stranger)
    answer = client.get(STATUS, {"live": f"comments:{song.pk}:0-0"}, headers={"HX-Request": "true"})
    assert answer.status_code == 204 and b"Secret" not in answer.content


@pytest.mark.parametrize("value", ["nope:1:0", "comments:x:0", "comments:1"])
def test_a_bad_live_value_is_a_400(client, owner, value):
    client.force_login(owner)
    answer = client.get(STATUS, {"live": value})
    assert answer.status_code == 400 and b"live part" in answer.content


def test_a_live_poll_that_finds_nothing_new_loads_no_comment(client, song, owner, django_assert_num_queries):
    """Session, user, the comments' versions in one query and the unread count in another (no card
    is asked for, so no card query, which also reads the outage flag): ten comments cost what none would."""
    for i in range(10):
        Comment.objects.post(song=song, author=owner, text=f"note {i}", at=i)
    client.force_login(owner)
    live = live_inputs(client.get(song.get_absolute_url()).content.decode())
    with django_assert_num_queries(4):
        assert client.get(STATUS, {"live": live}, headers={"HX-Request": "true"}).status_code == 204


@pytest.mark.parametrize("parent", ["abc", "99999", "9" * 40])
def test_a_reply_to_a_missing_comment_says_so(client, song, owner, parent):
    client.force_login(owner)
    answer = post(client, song, parent=parent, text="hello?")
    assert answer.status_code == 200 and "That comment is gone" in answer.content.decode()
    assert not Comment.objects.exists()


def test_the_song_pages_queries_do_not_grow_with_its_comments(client, song, owner, viewer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(song.get_absolute_url()).status_code == 200
        return len(captured)

    first = Comment.objects.post(song=song, author=viewer, text="@olivia one", at=1)
    client.force_login(owner)
    with_one = queries()
    for i in range(9):
        Comment.objects.post(song=song, author=viewer, text=f"@olivia more {i}", at=i)
        Comment.objects.post(song=song, author=owner, text="reply", parent=first)
    assert queries() == with_one
