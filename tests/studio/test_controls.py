"""The musician's controls match the music service's API: scales, cover-only strength, open
section markers, seed and instrumental where the API takes them, and Inspiration → Professional."""

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


def transform_url(song, mode):
    return reverse("studio:song_transform", args=[song.pk, mode])


def sliders(**overrides):
    return {"lyrics_strength": "0.5", "sound_prompt_strength": "0.5", "weirdness": "0.3",
            "cover_strength": "0.7", "variation_strength": "0.5", "model": "FUZZ-1.1",
            "idempotency_key": key(), **overrides}


# --- 8: dialect B's prompt strengths are 20–100, and the request page shows what was sent ---


def test_dialect_b_prompt_strength_sliders_start_at_20_percent(owner_client, project, useapi):
    page = owner_client.get(project.get_absolute_url() + "?mode=compose").content.decode()
    assert 'name="prompt_1_strength"' in page and 'min="0.2"' in page
    assert "This music service takes 20–100 %." in page
    response = owner_client.post(reverse("studio:generate", args=[project.pk, "compose"]), {
        "title": "Tidal", "lyrics": "", "instrumental": "on", "model": "FUZZ-0.8", "idempotency_key": key(),
        "lyrics_strength": "0.5", "weirdness": "0.5",
        "prompt_1": "warm synths", "prompt_1_strength": "0.05", "prompt_1_start": "0", "prompt_1_end": "1",
        "prompt_2_strength": "0.5", "prompt_2_start": "0", "prompt_2_end": "1",
        "prompt_3_strength": "0.5", "prompt_3_start": "0", "prompt_3_end": "1",
    }, **HTMX)
    assert "Ensure this value is greater than or equal to 0.2." in response.content.decode()
    assert not Transform.objects.exists()


def test_the_request_page_shows_dialect_b_values_as_sent(owner_client, project, owner):
    compose = make_request(project, owner, mode="compose", dialect="useapi", model="FUZZ-0.8", lyrics_strength=0.6,
                           weirdness=0.25, prompts=[{"text": "glass harmonica", "strength": 0.05, "start": 0.1,
                                                     "end": 0.9}])
    page = owner_client.get(compose.songs.first().get_absolute_url()).content.decode()
    assert 'data-param="prompt_1">“glass harmonica”, strength 20, over 10–90 % of the song<' in page
    assert 'data-param="lyrics_strength">60<' in page and 'data-param="lyrics_weirdness">25<' in page
    params = page[page.index('<dl class="params"'):page.index("</dl>")]
    assert "0.05" not in params and "0.60" not in params


def test_the_request_page_shows_dialect_a_values_as_sent(owner_client, done_song, project, owner):
    child = make_request(project, owner, mode="cover", dialect="riffusion", source_song=done_song,
                         weirdness=0.35, cover_strength=0.7)
    page = owner_client.get(child.songs.first().get_absolute_url()).content.decode()
    assert 'data-param="normalized_weirdness">0.35<' in page
    assert 'data-param="normalized_cover_strength">0.7<' in page


# --- 9: cover strength belongs to cover alone -------------------------------------------------


@pytest.mark.parametrize("mode", ["extend", "inpaint", "swap_vocals", "swap_sound"])
def test_only_cover_offers_cover_strength(owner_client, done_song, mode):
    cover = owner_client.get(done_song.get_absolute_url() + "?mode=cover").content.decode()
    other = owner_client.get(done_song.get_absolute_url() + f"?mode={mode}").content.decode()
    assert 'name="cover_strength"' in cover
    assert 'name="cover_strength"' not in other and "Cover strength" not in other


def test_a_cover_strength_posted_to_another_transform_is_not_kept(owner_client, done_song):
    owner_client.post(transform_url(done_song, "extend"), sliders(extend_at="1.2", cover_strength="0.9"), **HTMX)
    assert Transform.objects.get(mode="extend").cover_strength is None


# --- 10: section markers are an open list --------------------------------------------------


OPEN_LYRICS = ("[Intro]\n[Verse 1]\nSalt on the wire\n[Pre-Chorus]\nHold on\n[Chorus x2]\nWe rise\n[Refrain]\n"
               "We rise again\n[Solo]\n[Interlude]\n[Build]\nHigher\n[Drop]\n[Kazoo Break]\nbzz\n[Outro]")


def test_any_bracketed_section_name_is_accepted_with_a_hint_for_unknown_ones(owner_client, project):
    response = owner_client.post(reverse("studio:professional_create", args=[project.pk]), {
        "title": "Open", "lyrics": OPEN_LYRICS, "tags": "synthwave", "model": "FUZZ-1.1",
        "idempotency_key": key()}, **HTMX)
    page = response.content.decode()
    assert Transform.objects.get().lyrics == OPEN_LYRICS
    assert "Request sent" in page
    assert page.count("data-hint") == 1 and "[Kazoo Break] is not a section the music service" in page


def test_the_hint_survives_a_plain_post_and_its_redirect(owner_client, project):
    response = owner_client.post(reverse("studio:professional_create", args=[project.pk]), {
        "title": "Open", "lyrics": "[Kazoo Break]\nbzz", "tags": "synthwave", "model": "FUZZ-1.1",
        "idempotency_key": key()}, follow=True)
    assert "[Kazoo Break] is not a section the music service" in response.content.decode()


def test_known_markers_get_no_hint(owner_client, done_song):
    response = owner_client.post(transform_url(done_song, "cover"),
                                 sliders(lyrics="[Pre-Chorus]\nla\n[Chorus x2]\nla"), **HTMX)
    page = response.content.decode()
    assert "Request sent" in page and "data-hint" not in page


# --- 11: dialect B transforms: the source's style, seed and instrumental ---------------------


@pytest.mark.parametrize("mode", ["cover", "extend", "inpaint"])
def test_dialect_b_offers_seed_and_instrumental_on_its_transforms(owner_client, done_song, useapi, mode):
    page = owner_client.get(done_song.get_absolute_url() + f"?mode={mode}").content.decode()
    assert 'name="seed"' in page and 'name="instrumental"' in page
    seed_input = page[page.index('name="seed"') - 200:page.index('name="seed"') + 200]
    assert "disabled" not in seed_input


@pytest.mark.parametrize("mode", ["professional", "inspiration", "compose"])
def test_dialect_b_offers_seed_on_every_generation_mode(owner_client, project, useapi, mode):
    page = owner_client.get(project.get_absolute_url() + f"?mode={mode}").content.decode()
    seed_input = page[page.index('name="seed"') - 200:page.index('name="seed"') + 200]
    assert "disabled" not in seed_input


def test_dialect_a_greys_seed_out_with_the_reason(owner_client, project):
    page = owner_client.get(project.get_absolute_url() + "?mode=professional").content.decode()
    assert 'name="seed"' in page and "does not take a seed" in page


@pytest.mark.parametrize("mode", ["swap_vocals", "swap_sound"])
def test_the_swaps_offer_no_instrumental(owner_client, done_song, mode):
    page = owner_client.get(done_song.get_absolute_url() + f"?mode={mode}").content.decode()
    assert 'name="instrumental"' not in page


def test_a_dialect_b_extend_keeps_its_seed_and_instrumental(owner_client, done_song, useapi):
    owner_client.post(transform_url(done_song, "extend"),
                      sliders(model="FUZZ-0.8", extend_at="1.0", seed="99", instrumental="on"), **HTMX)
    transform = Transform.objects.get(mode="extend")
    assert (transform.seed, transform.instrumental) == (99, True)


def test_dialect_b_asks_for_a_style_when_the_source_has_none(owner_client, project, owner, useapi):
    upload = Upload.objects.create(project=project, created_by=owner, title="Demo take",
                                   status=Upload.Status.READY, upstream_id="up-1", duration=3.0)
    url = reverse("studio:upload_transform", args=[upload.pk, "extend"])
    response = owner_client.post(url, sliders(model="FUZZ-0.8", extend_at="2.0"), **HTMX)
    assert "The source has no style on record" in response.content.decode()
    assert not Transform.objects.exists()
    owner_client.post(url, sliders(model="FUZZ-0.8", extend_at="2.0", tags="lofi guitar"), **HTMX)
    assert Transform.objects.get().tags == "lofi guitar"


def test_the_request_page_shows_the_source_style_as_the_prompt_sent(owner_client, done_song, project, owner):
    extend = make_request(project, owner, mode="extend", dialect="useapi", model="FUZZ-0.8", source_song=done_song,
                          title="Harbour Lights (extend)", tags="", extend_at=1.0)
    page = owner_client.get(extend.songs.first().get_absolute_url()).content.decode()
    assert 'data-param="prompt_1">“synthwave”, strength 50' in page
    assert "“Harbour Lights (extend)”" not in page


# --- 12: start in Inspiration, refine in Professional ----------------------------------------


@pytest.fixture
def inspired(project, owner):
    transform = make_request(project, owner, mode="inspiration", topic="a lighthouse keeper", title="", tags="",
                             lyrics="")
    song = transform.songs.get(variant=0)
    Song.objects.filter(pk=song.pk).update(title="Keeper of the Light", lyrics="[Verse]\nThe lamp turns slow")
    return finish_song(Song.objects.get(pk=song.pk))


def test_an_inspiration_song_opens_professional_prefilled_with_what_the_service_wrote(owner_client, inspired,
                                                                                      project):
    page = owner_client.get(inspired.get_absolute_url()).content.decode()
    refine = f"{project.get_absolute_url()}?mode=professional&amp;refine={inspired.pk}#transform-form"
    assert f'href="{refine}" data-refine>Refine in Professional' in page
    form = owner_client.get(refine.replace("&amp;", "&")).content.decode()
    assert 'name="title" value="Keeper of the Light"' in form
    assert "[Verse]\nThe lamp turns slow</textarea>" in form


def test_other_songs_offer_no_refine(owner_client, done_song, inspired):
    assert "Refine in Professional" not in owner_client.get(done_song.get_absolute_url()).content.decode()
    Song.objects.filter(pk=inspired.pk).update(status=Song.Status.RUNNING)
    assert "Refine in Professional" not in owner_client.get(inspired.get_absolute_url()).content.decode()


def test_refining_a_song_of_another_project_is_not_found(client, stranger, inspired):
    from riffweb.studio.models import Project

    own = Project.create_for(stranger, name="Mine")
    client.force_login(stranger)
    response = client.get(f"{own.get_absolute_url()}?mode=professional&refine={inspired.pk}")
    assert response.status_code == 404
