"""The page's one status poll: only the cards that changed, out of band; 204 when none did; 286 at the end."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from riffweb.studio.models import Failure, Project, Song, Transform
from riffweb.upstream.models import UpstreamState
from tests.conftest import finish_song, make_request

HTMX = {"HTTP_HX_REQUEST": "true"}
CARD = re.compile(r'name="card" value="(\d+:[^"]+)"')


def cards_on(page: str) -> list[str]:
    """The `card` values a page (or a poll answer) gives its poller to send."""
    return CARD.findall(page)


def finished(song: Song) -> Song:
    """A song whose audio is stored, its card's version moved as the pipeline's store_audio moves it."""
    finish_song(song)
    Song.objects.filter(pk=song.pk).update(changed_at=timezone.now())
    return song


def poll(client, cards, look="card"):
    return client.get(reverse("studio:song_status"), {"card": cards, "look": look}, **HTMX)


@pytest.fixture
def running(request_with_songs):
    Song.objects.filter(transform=request_with_songs).update(status=Song.Status.RUNNING, progress=10)
    return request_with_songs


def test_a_page_with_unfinished_songs_has_one_poller_and_no_per_card_timer(owner_client, running, project):
    page = owner_client.get(project.get_absolute_url()).content.decode()
    assert page.count('hx-trigger="every 1s"') == 1
    assert 'id="song-poll"' in page
    assert len(cards_on(page)) == 2


def test_an_unchanged_poll_answers_204_with_nothing(owner_client, running, project):
    cards = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    response = poll(owner_client, cards)
    assert response.status_code == 204
    assert response.content == b""


def test_a_changed_song_comes_back_alone_as_an_out_of_band_swap(owner_client, running, project):
    cards = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    song, sibling = running.songs.order_by("variant")
    Song.objects.filter(pk=song.pk).update(progress=55, changed_at=timezone.now())
    response = poll(owner_client, cards)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="song-status-{song.pk}"' in page and 'hx-swap-oob="true"' in page
    assert "55%" in page
    assert f"song-status-{sibling.pk}" not in page
    assert "<html" not in page
    assert poll(owner_client, [*cards_on(page), cards[1]]).status_code == 204  # the new versions


def test_it_stops_polling_when_no_card_is_unfinished_after_the_last_swaps(owner_client, running, project):
    cards = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    first, second = running.songs.order_by("variant")
    finished(first)
    Song.objects.filter(pk=second.pk).fail(Failure.RENDER)
    response = poll(owner_client, cards)
    page = response.content.decode()
    assert response.status_code == 286
    assert reverse("studio:song_audio", args=[first.pk]) in page and "2.0 s" in page and "Download" in page
    assert "could not make this song" in page
    assert not cards_on(page)


def test_a_done_card_stays_on_the_poll_until_its_cover_art_is_made(owner_client, running, project):
    cards = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    first, second = running.songs.order_by("variant")
    finished(first)
    Song.objects.filter(pk=first.pk).update(finishing=True)
    Song.objects.filter(pk=second.pk).fail(Failure.RENDER)
    response = poll(owner_client, cards)
    page = response.content.decode()
    assert response.status_code == 200 and "Download" in page  # playable now, its cover still coming
    assert [card.split(":")[0] for card in cards_on(page)] == [str(first.pk)]

    Song.objects.filter(pk=first.pk).update(finishing=False, cover="covers/first.png", changed_at=timezone.now())
    response = poll(owner_client, cards_on(page))
    page = response.content.decode()
    assert response.status_code == 286 and 'class="cover"' in page and not cards_on(page)


def test_a_song_of_another_project_is_left_out(owner_client, running, stranger):
    elsewhere = make_request(Project.create_for(stranger, name="Sam's own"), stranger).songs.first()
    Song.objects.filter(pk=elsewhere.pk).update(status=Song.Status.RUNNING, progress=80)
    response = poll(owner_client, [f"{elsewhere.pk}:0-0"])
    assert response.status_code == 286  # nothing this user may see is unfinished
    assert f"song-status-{elsewhere.pk}" not in response.content.decode()
    mine = running.songs.first()
    response = poll(owner_client, [f"{elsewhere.pk}:0-0", f"{mine.pk}:0-0"])
    page = response.content.decode()
    assert response.status_code == 200
    assert f"song-status-{mine.pk}" in page and f"song-status-{elsewhere.pk}" not in page


def test_a_failed_card_says_what_happened_and_offers_retry_to_editors(owner_client, client, viewer, running):
    song = running.songs.first()
    Song.objects.filter(pk=song.pk).fail(Failure.LOST)
    page = poll(owner_client, [f"{song.pk}:0-0"]).content.decode()
    assert "lost track of this song. Retry to make it again." in page
    assert reverse("studio:song_retry", args=[song.pk]) in page
    client.force_login(viewer)
    assert reverse("studio:song_retry", args=[song.pk]) not in poll(client, [f"{song.pk}:0-0"]).content.decode()


def test_a_declined_card_offers_edit_and_send_again_not_retry(owner_client, running, project):
    song = running.songs.first()
    Song.objects.filter(pk=song.pk).fail(Failure.REJECTED, reason="moderation")
    page = poll(owner_client, [f"{song.pk}:0-0"]).content.decode()
    assert "declined this request (moderation). Edit it and send it again." in page
    assert "Edit and send again" in page
    assert f"?mode=professional&amp;reuse={running.pk}" in page
    assert reverse("studio:song_retry", args=[song.pk]) not in page
    project_page = owner_client.get(project.get_absolute_url()).content.decode()
    assert "Edit and send again" in project_page and "Retry" not in project_page


def test_every_unfinished_card_says_the_service_is_unreachable_during_an_outage(owner_client, running, project):
    cards = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    UpstreamState.ensure()
    UpstreamState.objects.update(unreachable_since=Song.objects.first().changed_at)
    assert UpstreamState.is_unreachable()
    response = poll(owner_client, cards)
    page = response.content.decode()
    assert response.status_code == 200  # the rows did not change, what the cards say did
    assert page.count("be reached right now") == 2
    assert "upstream" not in page.lower()
    project_page = owner_client.get(project.get_absolute_url()).content.decode()
    assert project_page.count("be reached right now") == 2


def test_the_song_page_polls_once_for_all_its_variants_with_players(owner_client, running):
    first, second = running.songs.order_by("variant")
    page = owner_client.get(first.get_absolute_url()).content.decode()
    assert page.count('hx-trigger="every 1s"') == 1 and len(cards_on(page)) == 2
    finished(second)
    answer = poll(owner_client, cards_on(page), look="player").content.decode()
    assert "data-player" in answer and f"song-status-{second.pk}" in answer


def test_bad_card_values_get_a_clear_400(owner_client):
    response = poll(owner_client, ["nonsense"])
    assert response.status_code == 400 and b"<song id>:<version>" in response.content
    assert poll(owner_client, ["1:0"], look="mystery").status_code == 400


def test_the_song_page_is_a_full_page(owner_client, done_song):
    page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert "<html" in page
    assert "variant A" in page
    assert "synthwave" in page


def test_the_library_page_polls_once_and_its_rows_follow(owner_client, running):
    page = owner_client.get(reverse("library:song_list")).content.decode()
    assert page.count('hx-trigger="every 1s"') == 1 and '"look": "row"' in page
    cards = cards_on(page)
    assert len(cards) == 2
    song = running.songs.first()
    Song.objects.filter(pk=song.pk).update(progress=70, changed_at=timezone.now())
    answer = poll(owner_client, cards, look="row").content.decode()
    assert f'id="song-state-{song.pk}"' in answer and "Generating 70%" in answer
    assert "song-status-" not in answer


def test_a_poll_costs_the_same_few_queries_for_six_or_thirty_cards(owner_client, owner, project,
                                                                  django_assert_num_queries):
    """Session, user, and one query for the cards' versions with the user's roles and the outage
    flag: every open page polls every 2 s, so a poll that finds nothing changed loads no song or
    project in full."""
    for i in range(3):
        make_request(project, owner, title=f"Song {i}")
    six = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    with django_assert_num_queries(3):
        assert poll(owner_client, six).status_code == 204
    for i in range(12):
        make_request(project, owner, title=f"More {i}")
    thirty = cards_on(owner_client.get(project.get_absolute_url()).content.decode())
    assert len(thirty) == 30
    with django_assert_num_queries(3):
        assert poll(owner_client, thirty).status_code == 204
    finished(Song.objects.order_by("pk").first())
    with django_assert_num_queries(4):  # and the changed card in full, to render it
        assert poll(owner_client, thirty).status_code == 200


@pytest.mark.parametrize("model, field, choices", [
    (Song, "status", [*Song.Status.values, "retired"]),
    (Transform, "mode", [*Transform.Mode.values, "retired"]),
])
def test_status_and_mode_read_as_django_would_write_them_even_for_a_value_no_choice_has(model, field, choices):
    django_field = model._meta.get_field(field)
    for value in choices:
        row = model(**{field: value})
        ours = getattr(row, f"get_{field}_display")()
        assert ours == row._get_FIELD_display(django_field)
        assert ours == (value if value == "retired" else dict(django_field.choices)[value])
