"""Palettes: a mode form saved under a name, applied to any mode form with one click, edited and
deleted by editors; the request remembers which palette filled its form."""

import pytest
from django.urls import reverse

from riffweb.studio.models import Palette, Project, Transform
from tests.conftest import add_member, finish_song, make_request
from tests.studio.test_modes import HTMX, compose_data, generate_url, useapi  # noqa: F401 (fixture)


@pytest.fixture
def dusk(project):
    return Palette.objects.create(
        project=project, name="Dusk", tags="lo-fi, warm tape", weirdness=0.3, lyrics_strength=0.7,
        prompts=[{"text": "vinyl crackle", "strength": 0.65, "start": 0.1, "end": 0.6}],
    )


def test_save_the_compose_form_as_a_palette(owner_client, project, useapi):
    data = compose_data(palette_name="Harbour", next=project.get_absolute_url(), mode="compose", title="")
    response = owner_client.post(reverse("studio:palette_create", args=[project.pk]), data)
    palette = Palette.objects.get(name="Harbour")
    assert response["Location"] == f"{project.get_absolute_url()}?mode=compose&palette={palette.pk}#transform-form"
    assert palette.weirdness == 0.25 and palette.lyrics_strength == 0.6
    assert palette.prompts == [
        {"text": "warm analog synths", "strength": 0.8, "start": 0.0, "end": 0.5},
        {"text": "brushed drums", "strength": 0.4, "start": 0.25, "end": 1.0},
    ]
    assert not Transform.objects.exists()  # saving a palette sends nothing


def test_a_palette_needs_a_name_and_a_page_of_its_own(owner_client, project):
    response = owner_client.post(reverse("studio:palette_create", args=[project.pk]),
                                 {"palette_name": "", "next": "https://evil.example/"})
    assert response.status_code == 400 and "Name the palette." in response.content.decode()
    response = owner_client.post(reverse("studio:palette_create", args=[project.pk]),
                                 {"palette_name": "Ok", "next": "https://evil.example/"}, **HTMX)
    assert response["HX-Redirect"].startswith(project.get_absolute_url())


def test_applying_a_palette_fills_the_compose_form(owner_client, project, dusk, useapi):
    page = owner_client.get(f"{project.get_absolute_url()}?mode=compose&palette={dusk.pk}").content.decode()
    assert "Filled from the palette “Dusk”." in page
    assert 'value="vinyl crackle"' in page and 'name="weirdness" value="0.3"' in page
    assert f'name="palette" value="{dusk.pk}"' in page


def test_a_palette_fills_a_transform_form_too(owner_client, project, owner, dusk):
    song = finish_song(make_request(project, owner).songs.get(variant=0))
    page = owner_client.get(f"{song.get_absolute_url()}?mode=cover&palette={dusk.pk}",
                            headers={"HX-Request": "true", "HX-Target": "transform-form"}).content.decode()
    assert 'value="lo-fi, warm tape"' in page and "Filled from the palette “Dusk”." in page


def test_the_request_shows_the_palette_that_filled_it(owner_client, project, dusk, useapi):
    owner_client.post(generate_url(project, "compose"), compose_data(palette=dusk.pk), **HTMX)
    transform = Transform.objects.get()
    assert transform.palette == dusk
    page = owner_client.get(transform.songs.first().get_absolute_url()).content.decode()
    assert "<dt>Palette</dt>" in page and ">Dusk</a>" in page


def test_a_palette_of_another_project_is_neither_applied_nor_kept(owner_client, owner, project, useapi):
    other = Palette.objects.create(project=Project.create_for(owner, name="Other"), name="Theirs", tags="x")
    response = owner_client.get(f"{project.get_absolute_url()}?mode=compose&palette={other.pk}")
    assert response.status_code == 404
    owner_client.post(generate_url(project, "compose"), compose_data(palette=other.pk), **HTMX)
    assert Transform.objects.get().palette is None


def test_editors_change_and_delete_a_palette_and_viewers_only_look(client, project, dusk):
    client.force_login(add_member(project, "edna", "editor"))
    response = client.post(dusk.get_absolute_url(), {"palette_name": "Dawn", "tags": "bright", "weirdness": "0.9"})
    assert response.status_code == 302
    dusk.refresh_from_db()
    assert (dusk.name, dusk.tags, dusk.weirdness, dusk.prompts) == ("Dawn", "bright", 0.9, [])
    bad = client.post(dusk.get_absolute_url(), {"palette_name": "Dawn", "weirdness": "7"})
    assert bad.status_code == 400 and "less than or equal to 1" in bad.content.decode()
    client.force_login(add_member(project, "vic", "viewer"))
    page = client.get(dusk.get_absolute_url()).content.decode()
    assert "bright" in page and "Save palette" not in page
    client.force_login(project.memberships.get(user__username="edna").user)
    client.post(reverse("studio:palette_delete", args=[dusk.pk]))
    assert not Palette.objects.exists()
