"""Guest links: listen-only pages for people outside the project, revocable and expiring."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from riffweb.studio.models import GuestLink


def make_link(song, **fields):
    return GuestLink.objects.create(song=song, **fields)


def test_an_editor_creates_a_guest_link(client, editor, done_song):
    client.force_login(editor)
    response = client.post(reverse("teams:guest_link_create", args=[done_song.pk]),
                           {"expires_in": "7", "allow_download": "on"}, headers={"HX-Request": "true"})
    link = done_song.guest_links.get()
    assert link.allow_download and link.expires_at > timezone.now() + timedelta(days=6)
    assert len(link.token) >= 40
    assert link.get_absolute_url() in response.content.decode()


def test_a_viewer_sees_the_copy_link_but_cannot_make_guest_links(client, viewer, done_song):
    client.force_login(viewer)
    page = client.get(reverse("teams:song_sharing", args=[done_song.pk]), headers={"HX-Request": "true"})
    html = page.content.decode()
    assert "Copy link" in html and done_song.get_absolute_url() in html
    assert "Create guest link" not in html
    response = client.post(reverse("teams:guest_link_create", args=[done_song.pk]), {})
    assert response.status_code == 403


def test_a_guest_hears_the_song_and_sees_nothing_else(client, done_song, project):
    link = make_link(done_song)
    page = client.get(link.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200 and done_song.display_title in html
    assert project.name not in html
    assert reverse("teams:guest_audio", args=[link.token]) in html
    assert "Download" not in html
    audio = client.get(reverse("teams:guest_audio", args=[link.token]), headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio["Content-Range"].startswith("bytes 0-99/")


def test_download_works_only_when_the_link_allows_it(client, done_song):
    closed, open_ = make_link(done_song), make_link(done_song, allow_download=True)
    assert client.get(reverse("teams:guest_download", args=[closed.token])).status_code == 404
    response = client.get(reverse("teams:guest_download", args=[open_.token]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]


def test_a_revoked_link_answers_404(client, editor, done_song):
    link = make_link(done_song)
    client.force_login(editor)
    client.post(reverse("teams:guest_link_revoke", args=[link.pk]))
    client.logout()
    for name in ("guest_song", "guest_audio", "guest_download"):
        assert client.get(reverse(f"teams:{name}", args=[link.token])).status_code == 404


def test_an_expired_link_answers_404(client, done_song):
    link = make_link(done_song, expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link.get_absolute_url()).status_code == 404


def test_a_trashed_song_closes_its_guest_links(client, done_song):
    link = make_link(done_song)
    done_song.deleted_at = timezone.now()
    done_song.save(update_fields=["deleted_at"])
    assert client.get(link.get_absolute_url()).status_code == 404


def test_a_stranger_cannot_revoke_someone_elses_link(client, stranger, done_song):
    link = make_link(done_song)
    client.force_login(stranger)
    assert client.post(reverse("teams:guest_link_revoke", args=[link.pk])).status_code == 404


def test_the_song_page_offers_sharing(owner_client, done_song):
    html = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert reverse("teams:song_sharing", args=[done_song.pk]) in html
