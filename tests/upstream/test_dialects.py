"""The one module that knows the dialects: what each offers, and that forms and client agree."""

import re

import pytest

from riffweb.engine.server import EngineConfig, EngineServer
from riffweb.upstream import dialects
from riffweb.upstream.client import Request, client_for
from riffweb.upstream.dialects import RIFFUSION, USEAPI


@pytest.fixture(scope="module")
def engine():
    with EngineServer(EngineConfig(render_delay=30.0, song_seconds=5.0)).start() as server:
        yield server


def offered_models(page: str) -> tuple[list[str], list[str]]:
    select = re.search(r'<select name="model".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option value="([^"]+)"([^>]*)>', select)
    return [value for value, _ in options], [value for value, attrs in options if "selected" in attrs]


@pytest.mark.parametrize("name", [RIFFUSION, USEAPI])
def test_the_project_page_offers_the_dialects_models_with_its_default_chosen(owner_client, project, settings, name):
    settings.RIFFWEB_UPSTREAM_DIALECT = name
    page = owner_client.get(project.get_absolute_url()).content.decode()
    models, chosen = offered_models(page)
    assert models == list(dialects.get(name).models)
    assert chosen == [dialects.get(name).default_model]


def test_dialect_a_defaults_to_fuzz_1_1_and_b_to_its_only_model():
    assert dialects.get(RIFFUSION).default_model == "FUZZ-1.1"
    assert dialects.get(USEAPI).models == ("FUZZ-0.8",)


@pytest.mark.parametrize("name", [RIFFUSION, USEAPI])
def test_the_engine_accepts_every_model_offered_and_a_request_without_one(engine, name):
    client = client_for(name, engine.url)
    for model in (*dialects.get(name).models, ""):
        ids = client.create(Request(mode="professional", title="Neon", tags="synthwave", lyrics="[Verse]\nla", model=model))
        assert ids


def test_a_request_without_a_model_is_sent_with_the_dialects_default(stub):
    for name, path in ((RIFFUSION, "/riffusion/generate"), (USEAPI, "/v1/riffusion/music/create-compose")):
        client_for(name, stub.url).create(Request(mode="professional", title="Neon", tags="synthwave"))
        method, sent_to, body, _ = stub.requests[-1]
        assert sent_to == path and body["model"] == dialects.get(name).default_model


def test_each_dialect_says_why_it_lacks_a_feature_in_musicians_words():
    assert dialects.reason("compose", RIFFUSION) == (
        "This music service (Riffusion API) does not take time-ranged prompts; use Professional with style tags."
    )
    assert dialects.reason("swap_vocals", USEAPI).startswith("This music service (useapi.net API) cannot swap vocals")
    assert dialects.reason("compose", USEAPI) == "" and dialects.available("compose", USEAPI)
    assert not dialects.available("seed", RIFFUSION)
    for name in (RIFFUSION, USEAPI):
        summary = dialects.summary(name)
        assert set(summary) >= {"professional", "compose", "swap_sound", "seed", "callbacks", "upload_url"}
        assert all("upstream" not in why.lower() for why in summary.values())


def test_without_a_dialect_it_answers_for_the_configured_one(settings):
    settings.RIFFWEB_UPSTREAM_DIALECT = USEAPI
    assert dialects.current().name == USEAPI and dialects.available("seed")
    settings.RIFFWEB_UPSTREAM_DIALECT = RIFFUSION
    assert dialects.current().label == "Riffusion API" and dialects.reason("seed")


def test_an_unknown_dialect_is_refused_with_the_names_that_exist():
    with pytest.raises(ValueError, match="use 'riffusion' or 'useapi'"):
        dialects.get("suno")


def test_callbacks_need_a_dialect_that_calls_back_and_a_public_address(settings):
    settings.RIFFWEB_PUBLIC_URL = "https://studio.example.com"
    settings.RIFFWEB_UPSTREAM_DIALECT = USEAPI
    assert dialects.callbacks_enabled()
    settings.RIFFWEB_UPSTREAM_DIALECT = RIFFUSION
    assert not dialects.callbacks_enabled()
    settings.RIFFWEB_UPSTREAM_DIALECT = USEAPI
    settings.RIFFWEB_PUBLIC_URL = ""
    assert not dialects.callbacks_enabled()


def test_uploads_travel_by_link_in_a_and_as_bytes_in_b():
    assert dialects.get(RIFFUSION).upload_by_link and not dialects.get(USEAPI).upload_by_link


def test_the_usual_time_and_the_poll_batch_follow_the_settings(settings):
    settings.RIFFWEB_UPSTREAM_FEED_CHUNK = 40
    settings.RIFFWEB_UPSTREAM_EXPECTED_SECONDS = 95
    assert dialects.get(RIFFUSION).poll_batch == 40 and dialects.get(USEAPI).poll_batch == 1
    assert dialects.get(RIFFUSION).usual_seconds == 95 == dialects.get(USEAPI).usual_seconds
    settings.RIFFWEB_UPSTREAM_EXPECTED_SECONDS = None
    assert dialects.get(USEAPI).usual_seconds == dialects.DIALECTS[USEAPI].usual_seconds


def test_a_public_address_too_long_for_callbacks_is_refused_at_start_up(settings, db):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.RIFFWEB_PUBLIC_URL = "https://studio.example.com/" + "x" * 1000
    with pytest.raises(SystemCheckError, match="riffweb.upstream.E001"):
        call_command("check")
    settings.RIFFWEB_PUBLIC_URL = "https://studio.example.com"
    call_command("check")
