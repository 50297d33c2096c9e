"""Tempo and sections: kept from the service's report when it sends them (the local engine does,
hosted APIs may not), and drawn on the song page for the player (bar nudges, section lane)."""

from django.utils import timezone

from riffweb.studio.models import Song
from riffweb.upstream import client as upstream
from riffweb.upstream.tracker import apply_track
from tests.conftest import add_member

SECTIONS = [{"kind": "intro", "start": 0, "end": 8.0}, {"kind": "verse", "start": 8.0, "end": 24.0},
            {"kind": "chorus", "start": 24.0, "end": 40.0}]


def report(**metadata) -> upstream.Track:
    raw = {"id": "t1", "status": "complete", "audio_url": "https://cdn.example/t1.mp3", "duration": 42.0}
    if metadata:
        raw["metadata"] = metadata
    return upstream.parse_track(raw)


def test_a_finished_report_keeps_its_tempo_and_sections(request_with_songs, enqueued):
    song = request_with_songs.songs.get(variant=0)
    Song.objects.filter(pk=song.pk).update(status=Song.Status.RUNNING)
    song.refresh_from_db()
    assert apply_track(song, report(bpm=120.004, key="C major", sections=SECTIONS), timezone.now()) == "done"
    song.refresh_from_db()
    assert song.bpm == 120.0 and song.bar_seconds == 2.0
    assert [s["kind"] for s in song.sections] == ["intro", "verse", "chorus"]


def test_a_service_that_sends_no_tempo_leaves_it_unknown(request_with_songs, enqueued):
    song = request_with_songs.songs.get(variant=0)
    Song.objects.filter(pk=song.pk).update(status=Song.Status.RUNNING)
    song.refresh_from_db()
    assert apply_track(song, report(), timezone.now()) == "done"
    song.refresh_from_db()
    assert (song.bpm, song.sections, song.bar_seconds) == (None, [], None)


def test_odd_tempo_and_sections_are_dropped_never_an_error():
    assert upstream.song_music({"metadata": "fast"}, 30) == (None, [])
    assert upstream.song_music({"metadata": {"bpm": "9000"}}, 30) == (None, [])
    assert upstream.song_music({"metadata": {"bpm": "96", "sections": "verse"}}, 30) == (96.0, [])
    backwards = [{"kind": "verse", "start": 10, "end": 20}, {"kind": "chorus", "start": 5, "end": 9}]
    assert upstream.song_music({"metadata": {"sections": backwards}}, 30) == (None, [])
    outside = [{"kind": "verse", "start": 40, "end": 50}]
    assert upstream.song_music({"metadata": {"sections": outside}}, 30) == (None, [])
    nameless = [{"kind": " ", "start": 0, "end": 5}]
    assert upstream.song_music({"metadata": {"sections": nameless}}, 30) == (None, [])
    # dialect B's `_s` times, and an end past the song clipped to it
    b = [{"name": "verse", "start_s": 0, "end_s": 12}, {"name": "outro", "start_s": 12, "end_s": 31}]
    assert upstream.song_music({"metadata": {"tempo": 100, "sections": b}}, 30) == (
        100.0, [{"kind": "verse", "start": 0, "end": 12}, {"kind": "outro", "start": 12, "end": 30}])


def test_the_song_page_shows_sections_and_the_tempo_to_the_player(client, owner, project, done_song):
    done_song.bpm, done_song.sections = 90.0, SECTIONS
    done_song.save(update_fields=["bpm", "sections"])
    client.force_login(owner)
    page = client.get(done_song.get_absolute_url()).content.decode()
    assert 'data-bpm="90.000000"' in page
    assert page.count("data-section-seek") == 3 and ">Chorus</button>" in page
    assert f"?mode=inpaint&amp;replace_start=24.00&amp;replace_end=40.00#transform-form" in page

    viewer = add_member(project, "vera", "viewer")
    client.force_login(viewer)
    page = client.get(done_song.get_absolute_url()).content.decode()
    assert page.count("data-section-loop") == 3 and "?mode=inpaint&amp;replace_start" not in page


def test_without_tempo_the_bar_nudges_have_nothing_to_go_on(owner_client, done_song):
    page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert 'data-bpm="' not in page and "data-sections" not in page
    assert "data-nudge-bars" in page  # present but hidden by the player without a tempo
