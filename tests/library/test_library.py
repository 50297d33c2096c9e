"""The library: every song I may hear, across projects, with search, filters, sort and pages."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from django.urls import reverse

from riffweb.studio.models import Membership, Project, Song, Transform
from tests.conftest import finish_song, make_request

LIBRARY = reverse("library:song_list")


def titles(response) -> str:
    return response.content.decode()


def test_it_lists_songs_from_all_my_projects_and_none_from_others(owner_client, owner, stranger, project):
    make_request(project, owner, title="Neon rain")
    mine = Project.create_for(owner, name="B-sides")
    make_request(mine, owner, title="Paper moons")
    theirs = Project.create_for(stranger, name="Secret")
    make_request(theirs, stranger, title="Hidden track")
    html = titles(owner_client.get(LIBRARY))
    assert "Neon rain" in html and "Paper moons" in html
    assert "Hidden track" not in html


def test_search_finds_title_lyrics_and_tags(owner_client, owner, project):
    make_request(project, owner, title="Alpha", lyrics="[Verse]\nmoonlight", tags="jazz")
    make_request(project, owner, title="Beta", lyrics="[Verse]\nsunrise", tags="metal")
    for q, found, missing in [("moonlight", "Alpha", "Beta"), ("METAL", "Beta", "Alpha"), ("alp", "Alpha", "Beta")]:
        html = titles(owner_client.get(LIBRARY, {"q": q}))
        assert found in html and missing not in html, q


def test_htmx_gets_only_the_list_and_the_url_keeps_the_filters(owner_client, owner, project):
    make_request(project, owner, title="Alpha")
    response = owner_client.get(LIBRARY, {"q": "alpha", "sort": "title"},
                                headers={"HX-Request": "true", "HX-Target": "song-list"})
    html = titles(response)
    assert html.lstrip().startswith('<section id="song-list"')
    assert "<html" not in html and "Alpha" in html


def test_filters_by_project_mode_status_favourite_and_date(owner_client, owner, project):
    other = Project.create_for(owner, name="Other")
    done = finish_song(make_request(project, owner, title="Finished").songs.get(variant=0))
    make_request(other, owner, title="Elsewhere", mode=Transform.Mode.COVER)
    done.favourited_by.add(owner)
    assert "Elsewhere" not in titles(owner_client.get(LIBRARY, {"project": project.pk}))
    html = titles(owner_client.get(LIBRARY, {"mode": "cover"}))
    assert "Elsewhere" in html and "Finished" not in html
    html = titles(owner_client.get(LIBRARY, {"status": "done"}))
    assert html.count('class="library-row') == 1
    html = titles(owner_client.get(LIBRARY, {"favourites": "on"}))
    assert html.count('class="library-row') == 1 and "Finished" in html
    assert "Finished" not in titles(owner_client.get(LIBRARY, {"until": "2000-01-01"}))


def test_a_project_i_cannot_see_is_not_a_filter_choice(owner_client, stranger):
    theirs = Project.create_for(stranger, name="Secret")
    response = owner_client.get(LIBRARY, {"project": theirs.pk})
    assert response.status_code == 200 and "Secret" not in titles(response)


def test_sort_by_duration_and_title(owner_client, owner, project):
    short = finish_song(make_request(project, owner, title="Zed").songs.get(variant=0), seconds=1)
    finish_song(make_request(project, owner, title="Abe").songs.get(variant=0), seconds=3)
    html = titles(owner_client.get(LIBRARY, {"sort": "shortest", "status": "done"}))
    assert html.index("Zed") < html.index("Abe")
    html = titles(owner_client.get(LIBRARY, {"sort": "title", "status": "done"}))
    assert html.index("Abe") < html.index("Zed")
    assert short.duration == 1


def test_a_row_names_the_mode_and_status_and_rounds_its_seconds_half_up(owner_client, owner, project):
    half = make_request(project, owner, title="Half", mode=Transform.Mode.SWAP_VOCALS).songs.get(variant=0)
    Song.objects.filter(pk=half.pk).update(status=Song.Status.DONE, duration=30.5)
    under = make_request(project, owner, title="Under").songs.get(variant=0)
    Song.objects.filter(pk=under.pk).update(status=Song.Status.TIMED_OUT, duration=30.49)
    html = titles(owner_client.get(LIBRARY))
    row = html[html.index(f'id="song-row-{half.pk}"'):]
    assert re.search(r"Swap vocals ·\s*<span class=\"song-state\"[^>]*>Done</span>\s*· 31 s ·", row[:2000])
    row = html[html.index(f'id="song-row-{under.pk}"'):]
    assert re.search(r"Professional ·\s*<span class=\"song-state\"[^>]*>Timed out\b[^·]*</span>\s*· 30 s ·", row[:2000])


def test_pages_of_25(owner_client, owner, project):
    for i in range(15):
        make_request(project, owner, title=f"Song {i:02}")
    first = titles(owner_client.get(LIBRARY))
    assert first.count('class="library-row') == 25 and "Page 1 of 2" in first
    second = titles(owner_client.get(LIBRARY, {"page": 2}))
    assert second.count('class="library-row') == 5


def test_a_viewer_gets_no_edit_controls(client, viewer, project, owner):
    make_request(project, owner)
    client.force_login(viewer)
    html = titles(client.get(LIBRARY))
    assert "Add to favourites" in html and "Rename" not in html and "Move to trash</button>" not in html


def test_rename_tag_and_favourite_a_song(client, editor, project, owner):
    song = make_request(project, owner).songs.get(variant=0)
    client.force_login(editor)
    htmx = {"HX-Request": "true"}
    response = client.post(reverse("library:song_rename", args=[song.pk]), {"title": "New name"}, headers=htmx)
    assert response.status_code == 200 and "New name" in titles(response)
    client.post(reverse("library:song_labels", args=[song.pk]), {"labels": "keeper, demo, keeper"})
    client.post(reverse("library:song_favourite", args=[song.pk]), {"favourite": "1"})
    song.refresh_from_db()
    assert song.title == "New name" and song.labels == "keeper, demo"
    assert song.favourited_by.filter(pk=editor.pk).exists()
    assert "keeper" in titles(client.get(LIBRARY, {"q": "keeper"}))


def test_a_viewer_can_favourite_but_not_rename(client, viewer, project, owner):
    song = make_request(project, owner).songs.get(variant=0)
    client.force_login(viewer)
    assert client.post(reverse("library:song_favourite", args=[song.pk]), {"favourite": "1"}).status_code == 302
    assert client.post(reverse("library:song_rename", args=[song.pk]), {"title": "x"}).status_code == 403


def test_move_needs_edit_rights_on_both_projects(client, editor, project, owner, stranger):
    song = make_request(project, owner).songs.get(variant=0)
    where_i_edit = Project.create_for(editor, name="Mine")
    where_i_view = Project.create_for(owner, name="Look only")
    Membership.objects.create(project=where_i_view, user=editor, role="viewer")
    client.force_login(editor)
    assert client.post(reverse("library:song_move", args=[song.pk]), {"project": where_i_view.pk}).status_code == 302
    song.refresh_from_db()
    assert song.project == project  # not a choice: refused without a move
    client.post(reverse("library:song_move", args=[song.pk]), {"project": where_i_edit.pk})
    song.refresh_from_db()
    assert song.project == where_i_edit


def test_bulk_actions_favourite_tag_move_and_trash(owner_client, owner, project):
    other = Project.create_for(owner, name="Other")
    songs = list(make_request(project, owner).songs.all())
    ids = [s.pk for s in songs]
    owner_client.post(reverse("library:bulk"), {"songs": ids, "action": "favourite"})
    owner_client.post(reverse("library:bulk"), {"songs": ids, "action": "tag", "label": "live"})
    owner_client.post(reverse("library:bulk"), {"songs": ids, "action": "move", "project": other.pk})
    assert Song.objects.filter(pk__in=ids, favourited_by=owner, labels="live", project=other).count() == 2
    response = owner_client.post(reverse("library:bulk"), {"songs": ids, "action": "trash"}, follow=True)
    assert "Move to trash: 2 song(s)." in titles(response)
    assert Song.objects.filter(pk__in=ids, deleted_at__isnull=False).count() == 2


def test_bulk_on_a_song_i_cannot_see_is_404(owner_client, stranger):
    theirs = make_request(Project.create_for(stranger, name="Secret"), stranger)
    ids = list(theirs.songs.values_list("pk", flat=True))
    assert owner_client.post(reverse("library:bulk"), {"songs": ids, "action": "trash"}).status_code == 404


def test_bulk_trash_as_viewer_is_403(client, viewer, project, owner):
    ids = list(make_request(project, owner).songs.values_list("pk", flat=True))
    client.force_login(viewer)
    assert client.post(reverse("library:bulk"), {"songs": ids, "action": "trash"}).status_code == 403


def test_the_library_takes_the_same_few_queries_however_many_songs(owner_client, owner, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(LIBRARY, params).status_code == 200
        return len(captured)

    make_request(project, owner)
    small = [queries({}), queries({"q": "neon"}), queries({"sort": "title"})]
    for i in range(30):
        other = Project.create_for(owner, name=f"P{i}") if i % 10 == 0 else project
        finish_song(make_request(other, owner).songs.get(variant=0)).favourited_by.add(owner)
    large = [queries({}), queries({"q": "neon"}), queries({"page": 2, "sort": "title"})]
    assert small == large and max(large) <= 10


def test_song_ids_past_the_databases_range_are_refused_with_a_message(owner_client, owner, project):
    """An attacker's id ≥ 2⁶³ once crashed the bulk and zip forms (the database cannot compare it)."""
    song = make_request(project, owner).songs.first()
    for url, data in ((reverse("library:bulk"), {"action": "trash"}), (reverse("library:download_zip"), {})):
        for huge in (2**63, 10**30, -(2**63) - 1):
            response = owner_client.post(url, {**data, "songs": [song.pk, huge]}, follow=True)
            assert response.status_code == 200
            assert "Those songs are not in your library." in titles(response)
    song.refresh_from_db()
    assert song.deleted_at is None


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Auckland"])
def test_a_date_filter_takes_whole_days_in_the_sites_time_zone(owner_client, owner, project, settings, zone):
    settings.TIME_ZONE = zone
    song = make_request(project, owner).songs.get(variant=0)
    row = f'id="song-row-{song.pk}"'
    late = datetime(2026, 3, 14, 23, 30, tzinfo=ZoneInfo(zone))  # the last half hour of the 14th there
    Song.objects.filter(pk=song.pk).update(created_at=late)
    for params, shown in [({"since": "2026-03-14"}, True), ({"until": "2026-03-14"}, True),
                          ({"since": "2026-03-15"}, False), ({"until": "2026-03-13"}, False),
                          ({"since": "2026-03-14", "until": "2026-03-14"}, True)]:
        assert (row in owner_client.get(LIBRARY, params).content.decode()) is shown, params
    for params in ({"since": "0001-01-01"}, {"until": "9999-12-31"}, {"since": "9999-12-31"}, {"until": "0001-01-01"}):
        response = owner_client.get(LIBRARY, params)
        assert response.status_code == 200, params
        everything = "0001" in params.get("since", "") or "9999" in params.get("until", "")
        assert (row in response.content.decode()) is everything, params
