"""Whatever people type is shown as text: names, titles and lyrics never become markup."""

from django.test import Client
from django.urls import reverse

from riffweb.studio.models import GuestLink, Invitation
from tests.conftest import finish_song, make_request

ATTACK = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def test_typed_text_is_escaped_on_member_sharing_invitation_and_guest_pages(owner_client, project, owner):
    project.description = ATTACK
    project.save()
    transform = make_request(project, owner, title=ATTACK, lyrics=ATTACK, tags=ATTACK)
    song = finish_song(transform.songs.get(variant=0))
    song.title = ATTACK
    song.save(update_fields=["title"])
    owner_client.post(reverse("teams:member_invite", args=[project.pk]), {"who": "ab.c+d@example.org", "role": "viewer"})
    invitation = Invitation.objects.get()
    link = GuestLink.objects.create(song=song, created_by=owner)
    anonymous = Client()
    pages = [
        owner_client.get(reverse("studio:project_list")),
        owner_client.get(reverse("teams:member_list", args=[project.pk])),
        owner_client.get(reverse("teams:song_sharing", args=[song.pk])),
        owner_client.get(song.get_absolute_url()),
        anonymous.get(link.get_absolute_url()),
        anonymous.get(invitation.get_absolute_url()),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert ATTACK not in html and "<script>alert" not in html
    assert ESCAPED in pages[4].content.decode()
