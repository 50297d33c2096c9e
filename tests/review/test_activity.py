"""A project's activity list: songs finished or failed, comments, mentions, members joining,
each linking to its object, newest first, paginated; one entry point for new kinds."""

from django.urls import reverse

from riffweb.review.models import Activity, Comment
from riffweb.studio.models import Failure, Song
from tests.conftest import add_member, finish_song, make_request


def test_the_activity_list_tells_what_happened_with_links(client, django_capture_on_commit_callbacks, project, owner):
    viewer = add_member(project, "vera", "viewer")
    transform = make_request(project, owner)
    done, lost = transform.songs.order_by("variant")
    Song.objects.filter(pk=done.pk).update(status=Song.Status.DOWNLOADING)
    done.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        done.store_audio("song.wav", "wav", 20.0, [0.5] * 10)  # a WAV: its peaks come with the check
        Song.objects.filter(pk=lost.pk).fail(Failure.LOST)
    done.refresh_from_db()
    comment = Comment.objects.post(song=done, author=viewer, text="Great hook", at=1)
    Comment.objects.post(song=done, author=viewer, text="@olivia listen", at=2)
    client.force_login(viewer)
    page = client.get(reverse("review:project_activity", args=[project.pk])).content.decode()
    for line in ("vera</strong>\n      joined", "olivia</strong>\n      finished", "olivia</strong>\n      failed",
                 "commented on", "mentioned someone on"):
        assert line in page, line
    assert f'href="{comment.get_absolute_url()}">Great hook</a>' in page
    assert page.index("mentioned someone on") < page.index("commented on") < page.index("joined")


def test_a_new_kind_is_recorded_through_the_one_entry_point_and_paginated(client, project, owner):
    song = finish_song(make_request(project, owner).songs.get(variant=0))
    for _ in range(31):
        Activity.objects.record(project, owner, "voted keeper on", song)
    client.force_login(owner)
    url = reverse("review:project_activity", args=[project.pk])
    first = client.get(url).content.decode()
    assert "voted keeper on" in first and "Page 1 of 2" in first
    assert "joined" in client.get(url, {"page": "2"}).content.decode()


def test_marks_and_playlist_changes_reach_the_activity_list(client, project, owner):
    viewer = add_member(project, "vera", "viewer")
    song = finish_song(make_request(project, owner, title="Tide").songs.get(variant=0))
    client.force_login(viewer)
    client.post(reverse("takes:take", args=[song.pk]), {"mark": "keeper"})
    client.force_login(owner)
    client.post(reverse("playlists:playlist_create", args=[project.pk]), {"name": "Set list"})
    playlist = project.playlists.get()
    client.post(reverse("playlists:playlist_add"), {"playlist": playlist.pk, "song": song.pk})
    entry = playlist.entries.get()
    client.post(reverse("playlists:playlist_remove", args=[playlist.pk, entry.pk]))
    page = client.get(reverse("review:project_activity", args=[project.pk])).content.decode()
    assert "vera</strong>\n      marked as a keeper" in page and f'href="{song.get_absolute_url()}"' in page
    for line in ("made the playlist", "added a song to", "took a song out of"):
        assert f"olivia</strong>\n      {line}" in page, line
    assert f'href="{playlist.get_absolute_url()}">Set list</a>' in page
    client.post(reverse("playlists:playlist_delete", args=[playlist.pk]))
    page = client.get(reverse("review:project_activity", args=[project.pk])).content.decode()
    assert "deleted the playlist\n      Set list <small class=\"muted\">(gone)</small>" in page
