"""Every mode's form: what it stores, and a message next to the field for every rule it breaks."""

import uuid

import pytest
from django.urls import reverse

from riffweb.studio.models import Song, Transform, Upload
from tests.conftest import finish_song, make_request

HTMX = {"HTTP_HX_REQUEST": "true"}


def key():
    return str(uuid.uuid4())


@pytest.fixture
def useapi(settings):
    settings.RIFFWEB_UPSTREAM_DIALECT = "useapi"


# --- generation modes on the project page ---------------------------------------------------


def compose_data(**overrides):
    return {
        "title": "Tidal", "lyrics": "[Verse]\nSalt on the wire", "lyrics_strength": "0.6",
        "weirdness": "0.25", "seed": "42", "model": "FUZZ-0.8", "idempotency_key": key(),
        "prompt_1": "warm analog synths", "prompt_1_strength": "0.8", "prompt_1_start": "0",
        "prompt_1_end": "0.5",
        "prompt_2": "brushed drums", "prompt_2_strength": "0.4", "prompt_2_start": "0.25",
        "prompt_2_end": "1",
        "prompt_3": "", "prompt_3_strength": "0.5", "prompt_3_start": "0", "prompt_3_end": "1",
        **overrides,
    }


def generate_url(project, mode):
    return reverse("studio:generate", args=[project.pk, mode])


def test_an_inspiration_request_keeps_its_theme(owner_client, project):
    response = owner_client.post(generate_url(project, "inspiration"), {
        "topic": "a lighthouse keeper who learns to dance", "model": "FUZZ-1.1",
        "instrumental": "on", "idempotency_key": key()}, **HTMX)
    transform = Transform.objects.get()
    assert response.status_code == 200
    assert (transform.mode, transform.topic, transform.instrumental) == (
        "inspiration", "a lighthouse keeper who learns to dance", True)
    assert transform.songs.count() == 2
    assert "Request sent" in response.content.decode()


def test_an_inspiration_request_needs_a_theme(owner_client, project):
    response = owner_client.post(generate_url(project, "inspiration"), {
        "topic": "", "model": "FUZZ-1.1", "idempotency_key": key()}, **HTMX)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Transform.objects.exists()


def test_a_compose_request_keeps_its_prompts_and_their_parts(owner_client, project, useapi):
    owner_client.post(generate_url(project, "compose"), compose_data(), **HTMX)
    transform = Transform.objects.get()
    assert transform.mode == "compose"
    assert transform.prompts == [
        {"text": "warm analog synths", "strength": 0.8, "start": 0.0, "end": 0.5},
        {"text": "brushed drums", "strength": 0.4, "start": 0.25, "end": 1.0},
    ]
    assert (transform.seed, transform.lyrics_strength, transform.weirdness) == (42, 0.6, 0.25)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt_1": ""}, "This field is required."),
        ({"prompt_1_start": "0.6", "prompt_1_end": "0.4"}, "The prompt’s part must end after it starts.".replace("’", "&#x27;")),
        ({"prompt_2_end": "1.2"}, "Ensure this value is less than or equal to 1."),
        ({"prompt_2_start": "-0.1"}, "Ensure this value is greater than or equal to 0."),
        ({"prompt_1_strength": "0.33"}, "multiple of step size 0.05"),
        ({"weirdness": "1.5"}, "Ensure this value is less than or equal to 1."),
        ({"lyrics_strength": "0.12"}, "multiple of step size 0.05"),
        ({"seed": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"seed": "2147483648"}, "Ensure this value is less than or equal to 2147483647."),
        ({"lyrics": "[ ]\nla"}, "A section marker needs a name"),
    ],
)
def test_bad_compose_input_gets_a_message(owner_client, project, useapi, overrides, message):
    response = owner_client.post(generate_url(project, "compose"), compose_data(**overrides), **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Transform.objects.exists()


def test_compose_is_greyed_out_with_the_reason_where_the_dialect_lacks_it(owner_client, project):
    page = owner_client.get(project.get_absolute_url() + "?mode=compose").content.decode()
    assert "does not take time-ranged prompts" in page
    assert "disabled" in page
    response = owner_client.post(generate_url(project, "compose"), compose_data(), **HTMX)
    assert "does not take time-ranged prompts" in response.content.decode()
    assert not Transform.objects.exists()


def test_the_mode_tabs_swap_only_the_form_for_htmx(owner_client, project):
    response = owner_client.get(project.get_absolute_url() + "?mode=inspiration",
                                HTTP_HX_TARGET="transform-form", **HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="transform-form"')
    assert 'name="topic"' in page and "<html" not in page


def test_an_unknown_mode_is_not_found(owner_client, project):
    assert owner_client.post(generate_url(project, "karaoke"), {}).status_code == 404


def test_a_viewer_cannot_generate(client, viewer, project):
    client.force_login(viewer)
    response = client.post(generate_url(project, "inspiration"), {"topic": "x", "idempotency_key": key()})
    assert response.status_code == 403


# --- transforms of a song -------------------------------------------------------------------


def transform_url(song, mode):
    return reverse("studio:song_transform", args=[song.pk, mode])


def sliders(**overrides):
    return {"lyrics_strength": "0.5", "sound_prompt_strength": "0.5", "weirdness": "0.3",
            "cover_strength": "0.7", "variation_strength": "0.5", "model": "FUZZ-1.1",
            "idempotency_key": key(), **overrides}


def test_a_cover_keeps_its_source_and_sliders(owner_client, done_song):
    response = owner_client.post(transform_url(done_song, "cover"),
                                 sliders(title="Neon rain (cover)", lyrics="[Verse]\nNew words"), **HTMX)
    transform = Transform.objects.exclude(pk=done_song.transform_id).get()
    assert response.status_code == 200
    assert (transform.mode, transform.source_song, transform.cover_strength) == ("cover", done_song, 0.7)
    assert (transform.weirdness, transform.title) == (0.3, "Neon rain (cover)")
    assert transform.songs.count() == 2
    page = response.content.decode()
    assert "Request sent" in page and transform.songs.first().get_absolute_url() in page


def test_an_extend_keeps_its_point_and_its_source_name(owner_client, done_song):
    owner_client.post(transform_url(done_song, "extend"), sliders(extend_at="1.2"), **HTMX)
    transform = Transform.objects.get(mode="extend")
    assert (transform.extend_at, transform.title) == (1.2, "Neon rain")


def test_an_inpaint_keeps_its_range(owner_client, done_song):
    owner_client.post(transform_url(done_song, "inpaint"),
                      sliders(replace_start="0.4", replace_end="1.6"), **HTMX)
    transform = Transform.objects.get(mode="inpaint")
    assert (transform.replace_start, transform.replace_end) == (0.4, 1.6)


@pytest.mark.parametrize("mode", ["swap_vocals", "swap_sound"])
def test_the_swaps_work_on_the_default_dialect(owner_client, done_song, mode):
    owner_client.post(transform_url(done_song, mode), sliders(), **HTMX)
    assert Transform.objects.get(mode=mode).source_song == done_song


@pytest.mark.parametrize(
    ("mode", "overrides", "message"),
    [
        ("extend", {"extend_at": "0"}, "Choose a point inside the song: between 0 and 2.0 s."),
        ("extend", {"extend_at": "2.0"}, "Choose a point inside the song: between 0 and 2.0 s."),
        ("extend", {"extend_at": "7"}, "Choose a point inside the song: between 0 and 2.0 s."),
        ("extend", {"extend_at": ""}, "This field is required."),
        ("inpaint", {"replace_start": "1.5", "replace_end": "1.0"}, "The part must end after it starts."),
        ("inpaint", {"replace_start": "1.0", "replace_end": "1.0"}, "The part must end after it starts."),
        ("inpaint", {"replace_start": "0.5", "replace_end": "2.5"}, "The song is only 2.0 s long."),
        ("inpaint", {"replace_start": "0.5", "replace_end": "1.0"}, "Choose at least 1 s to replace."),
        ("inpaint", {"replace_start": "-1", "replace_end": "1.5"}, "Ensure this value is greater than or equal to 0."),
        ("cover", {"cover_strength": "1.05"}, "Ensure this value is less than or equal to 1."),
        ("cover", {"lyrics_strength": "-0.05"}, "Ensure this value is greater than or equal to 0."),
        ("cover", {"variation_strength": "0.42"}, "multiple of step size 0.05"),
        ("swap_sound", {"sound_prompt_strength": "abc"}, "Enter a number."),
        ("cover", {"idempotency_key": "nope"}, "reload the page"),
    ],
)
def test_bad_transform_input_gets_a_message(owner_client, done_song, mode, overrides, message):
    base = {"extend": {"extend_at": "1"}, "inpaint": {"replace_start": "0.2", "replace_end": "1.5"}}
    data = sliders(**base.get(mode, {})) | overrides
    response = owner_client.post(transform_url(done_song, mode), data, **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Transform.objects.count() == 1  # only the source's own request


def test_an_unfinished_song_cannot_be_transformed_yet(owner_client, request_with_songs):
    song = request_with_songs.songs.first()
    response = owner_client.post(transform_url(song, "cover"), sliders(), **HTMX)
    assert "has not finished, so it cannot be transformed yet" in response.content.decode()
    assert Transform.objects.count() == 1


def test_a_source_the_user_cannot_see_is_not_found(client, stranger, done_song):
    client.force_login(stranger)
    assert client.post(transform_url(done_song, "cover"), sliders()).status_code == 404


def test_a_viewer_cannot_transform(client, viewer, done_song):
    client.force_login(viewer)
    assert client.post(transform_url(done_song, "cover"), sliders()).status_code == 403


def test_a_swap_the_dialect_lacks_is_refused_with_the_reason(owner_client, done_song, useapi):
    page = owner_client.get(done_song.get_absolute_url() + "?mode=swap_vocals").content.decode()
    assert "cannot swap vocals" in page
    response = owner_client.post(transform_url(done_song, "swap_vocals"), sliders(model="FUZZ-0.8"), **HTMX)
    assert "cannot swap vocals" in response.content.decode()
    assert Transform.objects.count() == 1


def test_controls_the_dialect_lacks_are_greyed_out_with_the_reason(owner_client, done_song, useapi):
    page = owner_client.get(done_song.get_absolute_url() + "?mode=cover").content.decode()
    assert "has no variation strength" in page
    owner_client.post(transform_url(done_song, "cover"), sliders(model="FUZZ-0.8"), **HTMX)
    assert Transform.objects.get(mode="cover").variation_strength is None


@pytest.fixture
def ready_upload(project, owner):
    upload = Upload.objects.create(project=project, created_by=owner, title="Demo take",
                                   status=Upload.Status.READY, upstream_id="up-1", duration=3.0)
    return upload


def test_an_upload_can_be_transformed_once_ready(owner_client, ready_upload):
    url = reverse("studio:upload_transform", args=[ready_upload.pk, "extend"])
    owner_client.post(url, sliders(extend_at="2.5"), **HTMX)
    transform = Transform.objects.get()
    assert (transform.source_upload, transform.source_song, transform.extend_at) == (ready_upload, None, 2.5)


def test_an_upload_still_processing_cannot_be_transformed(owner_client, ready_upload):
    Upload.objects.filter(pk=ready_upload.pk).update(status=Upload.Status.PROCESSING)
    url = reverse("studio:upload_transform", args=[ready_upload.pk, "cover"])
    response = owner_client.post(url, sliders(), **HTMX)
    assert "not ready to transform" in response.content.decode()
    assert not Transform.objects.exists()


# --- the song page: player, lineage, reuse --------------------------------------------------


def test_the_song_page_draws_the_stored_peaks(owner_client, done_song):
    Song.objects.filter(pk=done_song.pk).update(peaks=[0.25, 0.5, 0.75])
    page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert "data-player" in page and "[0.25, 0.5, 0.75]" in page
    assert "vendor/wavesurfer/wavesurfer.esm.js" in page


def test_a_song_without_peaks_is_left_to_the_browser_and_never_written_by_a_get(owner_client, done_song):
    assert done_song.peaks == []
    page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert "data-player" in page and '<script type="application/json">[]</script>' in page
    done_song.refresh_from_db()
    assert done_song.peaks == []


def test_the_song_page_shows_both_variants_with_an_ab_switch(owner_client, request_with_songs):
    first, second = request_with_songs.songs.order_by("variant")
    finish_song(first), finish_song(second)
    page = owner_client.get(first.get_absolute_url()).content.decode()
    assert page.count("data-player ") == 2
    assert "Switch A/B at the same moment" in page


def test_a_transformed_song_shows_its_source_parameters_and_family(owner_client, done_song, project, owner):
    child_request = make_request(project, owner, mode="inpaint", source_song=done_song,
                                 replace_start=0.5, replace_end=1.5, weirdness=0.35)
    child = child_request.songs.get(variant=0)
    page = owner_client.get(child.get_absolute_url()).content.decode()
    assert f'href="{done_song.get_absolute_url()}" data-source-link' in page
    assert "0.5 s – 1.5 s" in page and "0.35" in page
    assert 'aria-current="page"' in page  # this song, inside its family tree
    parent_page = owner_client.get(done_song.get_absolute_url()).content.decode()
    assert child.get_absolute_url() in parent_page and "Inpaint" in parent_page


def test_reuse_settings_opens_the_right_form_prefilled(owner_client, done_song, project, owner, useapi):
    compose = make_request(project, owner, mode="compose", seed=7, prompts=[
        {"text": "glass harmonica", "strength": 0.65, "start": 0.1, "end": 0.9}])
    song = compose.songs.first()
    page = owner_client.get(song.get_absolute_url()).content.decode()
    reuse = f"{project.get_absolute_url()}?mode=compose&amp;reuse={compose.pk}"
    assert reuse in page
    form = owner_client.get(reuse.replace("&amp;", "&")).content.decode()
    assert 'value="glass harmonica"' in form and 'value="7"' in form and 'value="0.65"' in form

    extend = make_request(project, owner, mode="extend", source_song=done_song, extend_at=1.3)
    form = owner_client.get(f"{done_song.get_absolute_url()}?mode=extend&reuse={extend.pk}").content.decode()
    assert 'name="extend_at" value="1.3"' in form


def test_reusing_a_request_from_another_project_is_not_found(client, stranger, request_with_songs, owner):
    from riffweb.studio.models import Project

    own = Project.create_for(stranger, name="Mine")
    client.force_login(stranger)
    response = client.get(f"{own.get_absolute_url()}?mode=professional&reuse={request_with_songs.pk}")
    assert response.status_code == 404


def test_songs_made_by_a_transform_are_tracked_like_any_other(owner_client, done_song):
    owner_client.post(transform_url(done_song, "cover"), sliders(), **HTMX)
    new = Song.objects.filter(transform__mode="cover")
    assert list(new.values_list("variant", "status")) == [(0, "pending"), (1, "pending")]
