"""A song moved to another project shows its new readers nothing of the project it left: not
its sibling, not its source, and its retry restarts nothing over there."""

import pytest
from django.urls import reverse

from riffweb.studio.models import Failure, Membership, Project, Song, Transform
from tests.conftest import add_member, finish_song, make_request, submitted


@pytest.fixture
def moved(owner, project, done_song):
    """An editor of both projects made a cover of `done_song` and moved its variant A away."""
    elsewhere = Project.create_for(owner, name="Open room")
    cover = make_request(project, owner, title="Harbour cover", mode=Transform.Mode.COVER, source_song=done_song)
    variant_a = finish_song(cover.songs.get(variant=0))
    variant_a.project = elsewhere
    variant_a.save(update_fields=["project"])
    finish_song(cover.songs.get(variant=1))
    return variant_a


@pytest.fixture
def newcomer(client, moved):
    """A member of the new project only."""
    user = add_member(moved.project, "nina", Membership.Role.EDITOR)
    client.force_login(user)
    return client


def test_the_song_page_shows_neither_the_sibling_nor_the_source(newcomer, moved, done_song):
    page = newcomer.get(moved.get_absolute_url()).content.decode()
    sibling = moved.transform.songs.get(variant=1)
    assert reverse("studio:song_audio", args=[moved.pk]) in page
    assert reverse("studio:song_audio", args=[sibling.pk]) not in page
    assert done_song.get_absolute_url() not in page and done_song.display_title not in page
    assert "not available to you" in page


def test_the_old_project_page_no_longer_shows_the_moved_song(owner_client, project, moved):
    page = owner_client.get(project.get_absolute_url()).content.decode()
    sibling = moved.transform.songs.get(variant=1)
    assert f'id="song-{sibling.pk}"' in page and f'id="song-{moved.pk}"' not in page


def test_the_new_project_page_shows_the_song_that_moved_in(newcomer, moved):
    page = newcomer.get(moved.project.get_absolute_url()).content.decode()
    assert f'id="song-{moved.pk}"' in page
    assert f'id="song-{moved.transform.songs.get(variant=1).pk}"' not in page


def test_retrying_the_moved_song_restarts_it_alone(newcomer, moved, enqueued, django_capture_on_commit_callbacks):
    Song.objects.filter(pk=moved.pk).fail(Failure.LOST)
    sibling = moved.transform.songs.get(variant=1)
    with django_capture_on_commit_callbacks(execute=True):
        newcomer.post(reverse("studio:song_retry", args=[moved.pk]))
    assert Song.objects.get(pk=moved.pk).status == Song.Status.PENDING
    assert Song.objects.get(pk=sibling.pk).status == Song.Status.DONE
    assert submitted(enqueued) == [moved.transform_id]
