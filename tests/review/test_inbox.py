"""Notifications: who hears about what, the inbox page, and the top bar's unread count that
rides the page's one poll."""

import re

import pytest
from django.urls import reverse

from riffweb.review.models import Comment, Notification
from riffweb.studio.models import Failure, Song
from tests.conftest import add_member, finish_song, make_request

STATUS = reverse("studio:song_status")
INBOX = reverse("review:inbox")


@pytest.fixture
def song(project, owner):
    return finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)


def kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_comments_tell_the_song_owner_the_thread_author_and_those_mentioned_once_each(song, owner, editor,
                                                                                        viewer):
    first = Comment.objects.post(song=song, author=viewer, text="Nice, @ed listen", at=1)
    assert kinds(owner) == ["comment"] and kinds(editor) == ["mention"] and kinds(viewer) == []
    Comment.objects.post(song=song, author=editor, text="Thanks @vera and @olivia", parent=first)
    assert kinds(viewer) == ["mention"]  # mentioned and replied to: one notice, the mention
    assert kinds(owner) == ["comment", "mention"]
    Comment.objects.post(song=song, author=owner, text="My own song", at=2)
    assert kinds(owner) == ["comment", "mention"]  # never about one's own comment


def test_the_requester_hears_when_songs_finish_or_fail(django_capture_on_commit_callbacks, project, owner):
    transform = make_request(project, owner)
    done, failed = transform.songs.order_by("variant")
    Song.objects.filter(pk=done.pk).update(status=Song.Status.DOWNLOADING)
    done.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert done.store_audio("song.mp3", "mp3", 2.0, [])  # stored by its frame headers
        Song.objects.filter(pk=failed.pk).fail(Failure.LOST)
    assert kinds(owner) == ["failed"]  # the stored song's waveform is still to come
    done.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert done.finish([0.5] * 10, "")
    assert kinds(owner) == ["failed", "finished"]


def test_the_inbox_lists_marks_read_and_filters_mentions(client, song, owner, editor, viewer):
    Comment.objects.post(song=song, author=viewer, text="Nice take", at=1)
    Comment.objects.post(song=song, author=editor, text="@olivia the bridge", at=3)
    client.force_login(owner)
    page = client.get(INBOX).content.decode()
    assert "Comment on your song" in page and "You were mentioned" in page and "2 unread" in page
    mentions = client.get(INBOX, {"only": "mentions"}).content.decode()
    assert "the bridge" in mentions and "Nice take" not in mentions
    note = Notification.objects.get(user=owner, kind="mention")
    answer = client.post(reverse("review:notification_read", args=[note.pk]))
    assert answer.status_code == 302 and answer["Location"].endswith(f"#comment-{note.comment_id}")
    assert "1 unread" in client.get(INBOX).content.decode()
    client.post(reverse("review:inbox_read_all"))
    assert "unread" not in client.get(INBOX).content.decode().split("<main>")[0]
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_one_cannot_read_another_members_notification(client, song, owner, viewer):
    Comment.objects.post(song=song, author=viewer, text="Hi", at=1)
    client.force_login(viewer)
    note = Notification.objects.get(user=owner)
    assert client.post(reverse("review:notification_read", args=[note.pk])).status_code == 404
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_the_inbox_paginates(client, song, owner, viewer):
    for i in range(30):
        Comment.objects.post(song=song, author=viewer, text=f"note {i}", at=1)
    client.force_login(owner)
    first = client.get(INBOX).content.decode()
    assert "Page 1 of 2" in first and "note 29" in first and "note 0" not in first
    assert "note 0" in client.get(INBOX, {"page": "2"}).content.decode()


def test_the_unread_count_rides_the_poll_of_any_page(client, song, owner, viewer, project):
    client.force_login(owner)
    page = client.get(reverse("studio:project_list")).content.decode()
    assert page.count('hx-trigger="every 1s"') == 1
    [live] = re.findall(r'name="live" value="(inbox:[^"]+)"', page)
    headers = {"HX-Request": "true"}
    assert client.get(STATUS, {"live": live}, headers=headers).status_code == 204
    Comment.objects.post(song=song, author=viewer, text="Hello", at=1)
    answer = client.get(STATUS, {"live": live}, headers=headers)
    body = answer.content.decode()
    assert answer.status_code == 200 and 'id="inbox-link" hx-swap-oob="true"' in body and "1 unread" in body
    # Someone else's inbox is never answered.
    other = add_member(project, "mallory", "viewer")
    client.force_login(other)
    assert client.get(STATUS, {"live": live}, headers=headers).status_code == 204
