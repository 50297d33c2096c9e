"""Guest links that take comments: the guest gives a name, the comment is marked as a guest's,
editors remove it; guests never see the members' comments unless the link shows them."""

from django.urls import reverse

from riffweb.review.models import Comment, Notification
from riffweb.studio.models import GuestLink
from tests.conftest import finish_song, make_request


def make_song(project, owner):
    return finish_song(make_request(project, owner).songs.get(variant=0), seconds=20.0)


def comment_url(link):
    return reverse("review:guest_comment_create", args=[link.token])


def test_a_guest_comments_under_a_name_and_editors_may_remove_it(client, project, owner, editor):
    song = make_song(project, owner)
    link = GuestLink.objects.create(song=song, created_by=owner, allow_comments=True)
    answer = client.post(comment_url(link), {"name": "Nina", "at": "3", "end": "5", "text": "Love the <b>intro</b>"})
    assert answer.status_code == 302 and answer["Location"].endswith("#comments")
    page = client.get(link.get_absolute_url()).content.decode()
    assert "Nina" in page and "guest" in page and "Love the &lt;b&gt;intro&lt;/b&gt;" in page
    comment = Comment.objects.get()
    assert comment.author is None and comment.guest_link == link
    assert Notification.objects.get(user=owner).kind == "comment"
    client.force_login(editor)
    member_page = client.get(song.get_absolute_url()).content.decode()
    assert "Nina</strong> <span class=\"badge\">guest</span>" in member_page
    assert client.post(reverse("review:comment_delete", args=[comment.pk])).status_code == 302
    assert not Comment.objects.exists()


def test_a_guest_needs_a_name_and_a_link_that_takes_comments(client, project, owner):
    song = make_song(project, owner)
    listen_only = GuestLink.objects.create(song=song, created_by=owner)
    assert client.post(comment_url(listen_only), {"name": "Nina", "at": "1", "text": "hi"}).status_code == 403
    taking = GuestLink.objects.create(song=song, created_by=owner, allow_comments=True)
    answer = client.post(comment_url(taking), {"name": " ", "at": "1", "text": "hi"})
    assert answer.status_code == 400 and "Give your name" in answer.content.decode()
    assert not Comment.objects.exists()


def test_guests_see_member_comments_only_when_the_link_shows_them(client, project, owner):
    song = make_song(project, owner)
    Comment.objects.post(song=song, author=owner, text="Internal: redo the bridge", at=2)
    hidden = GuestLink.objects.create(song=song, created_by=owner, allow_comments=True)
    shown = GuestLink.objects.create(song=song, created_by=owner, allow_comments=True, show_member_comments=True)
    listen_only = GuestLink.objects.create(song=song, created_by=owner)
    assert "redo the bridge" not in client.get(hidden.get_absolute_url()).content.decode()
    assert "redo the bridge" in client.get(shown.get_absolute_url()).content.decode()
    page = client.get(listen_only.get_absolute_url()).content.decode()
    assert "redo the bridge" not in page and "Comments" not in page


def test_the_sharing_form_makes_a_link_that_takes_comments(client, project, owner):
    song = make_song(project, owner)
    client.force_login(owner)
    client.post(reverse("teams:guest_link_create", args=[song.pk]), {"allow_comments": "on"})
    link = GuestLink.objects.get()
    assert link.allow_comments and not link.show_member_comments
