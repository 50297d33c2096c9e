"""Submitting a professional-mode request: one request, two variants, a message for every mistake."""

import uuid

import pytest
from django.urls import reverse

from riffweb.studio.models import Project, Song, Transform
from tests.conftest import submitted

HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(**overrides):
    return {
        "title": "Neon rain",
        "lyrics": "[Verse]\nCity lights in the rain\n[Chorus]\nDrive all night",
        "tags": "synthwave, dreamy",
        "model": "FUZZ-1.1",
        "idempotency_key": str(uuid.uuid4()),
        **overrides,
    }


@pytest.fixture
def url(project):
    return reverse("studio:professional_create", args=[project.pk])


def test_an_htmx_submit_returns_a_fresh_form_and_the_new_request(owner_client, url):
    response = owner_client.post(url, form_data(), **HTMX)
    page = response.content.decode()
    transform = Transform.objects.get()
    assert response.status_code == 200
    assert transform.mode == Transform.Mode.PROFESSIONAL
    assert list(transform.songs.values_list("variant", "status")) == [
        (0, Song.Status.PENDING), (1, Song.Status.PENDING)
    ]
    assert 'id="transform-form"' in page
    assert 'hx-swap-oob="afterbegin:#requests"' in page
    assert page.count('hx-trigger="every 1s"') == 1  # the page's one poller, started again
    assert page.count('name="card"') == 2
    assert "<html" not in page


def test_every_input_is_kept_on_the_request(owner_client, url, owner):
    owner_client.post(url, form_data(instrumental="on", model="FUZZ-1.0 Pro"), **HTMX)
    transform = Transform.objects.get()
    assert (transform.title, transform.tags, transform.model, transform.instrumental) == (
        "Neon rain", "synthwave, dreamy", "FUZZ-1.0 Pro", True)
    assert transform.lyrics.startswith("[Verse]")
    assert transform.created_by == owner
    assert transform.dialect == "riffusion"


def test_a_plain_post_redirects_back_to_the_project(owner_client, url, project):
    response = owner_client.post(url, form_data())
    assert response.status_code == 302
    assert response["Location"] == project.get_absolute_url()


def test_a_resent_form_makes_one_request(owner_client, url):
    data = form_data()
    owner_client.post(url, data, **HTMX)
    owner_client.post(url, data, **HTMX)
    assert Transform.objects.count() == 1
    assert Song.objects.count() == 2


def test_the_request_is_handed_to_the_worker_cluster_on_commit(
    owner_client, url, django_capture_on_commit_callbacks, enqueued
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url, form_data(), **HTMX)
    assert submitted(enqueued) == [Transform.objects.get().pk]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"tags": ""}, "tags", "This field is required."),
        ({"lyrics": ""}, "lyrics", "Write some lyrics, or tick “Instrumental”."),
        ({"lyrics": "[]\nla la"}, "lyrics", "A section marker needs a name"),
        ({"lyrics": "la " * 1001}, "lyrics", "The music service takes at most 3000 characters of lyrics"),
        ({"title": "x" * 201}, "title", "Ensure this value has at most 200 characters"),
        ({"model": "FUZZ-9"}, "model", "Select a valid choice."),
        ({"idempotency_key": "not-a-key"}, "idempotency_key", "reload the page"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field(owner_client, url, overrides, field, message):
    response = owner_client.post(url, form_data(**overrides), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert not Transform.objects.exists()


def test_instrumental_requests_need_no_lyrics(owner_client, url):
    owner_client.post(url, form_data(lyrics="", instrumental="on"), **HTMX)
    assert Transform.objects.get().instrumental


def test_the_form_enforces_csrf(client, owner, url):
    client = client.__class__(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url, form_data(), **HTMX).status_code == 403


def test_a_key_used_in_another_project_is_refused_with_a_message(owner_client, owner, url):
    data = form_data()
    owner_client.post(url, data, **HTMX)
    other = Project.create_for(owner, name="Second room")
    response = owner_client.post(reverse("studio:professional_create", args=[other.pk]), data)
    assert response.status_code == 400
    assert "already sent from another project" in response.content.decode()
    assert Transform.objects.count() == 1 and not other.transforms.exists()
