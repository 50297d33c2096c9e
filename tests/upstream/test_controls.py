"""What the musician's controls put in the create call, sent by the pipeline to the scripted stub."""

import pytest

from riffweb.studio.models import Transform, Upload
from riffweb.upstream.submit import submit_transform
from tests.conftest import finish_song, make_request


@pytest.fixture
def source(project, owner):
    song = make_request(project, owner, title="Harbour Lights", tags="sea shanty, accordion").songs.get(variant=0)
    song.upstream_id = "riff-1"
    return finish_song(song)


def sent(stub) -> dict:
    method, path, body, _ = stub.requests[-1]
    assert method == "POST"
    return body


def test_dialect_a_sends_cover_strength_for_a_cover(stub, upstream_at, project, owner, source):
    upstream_at(stub.url, "riffusion")
    cover = make_request(project, owner, mode="cover", source_song=source, cover_strength=0.7)
    assert submit_transform(cover.pk) == "submitted"
    assert sent(stub)["morph"]["normalized_cover_strength"] == 0.7


@pytest.mark.parametrize("mode", ["extend", "inpaint", "swap_vocals", "swap_sound"])
def test_dialect_a_sends_no_cover_strength_for_other_transforms(stub, upstream_at, project, owner, source, mode):
    upstream_at(stub.url, "riffusion")
    # A row from before the form dropped the control still carries a value: it is not sent.
    other = make_request(project, owner, mode=mode, source_song=source, cover_strength=0.7, extend_at=1.0,
                         replace_start=0.2, replace_end=1.5)
    assert submit_transform(other.pk) == "submitted"
    assert "normalized_cover_strength" not in sent(stub)["morph"]


@pytest.mark.parametrize("mode", ["cover", "extend", "inpaint"])
def test_dialect_b_sends_the_source_style_never_the_title(stub, upstream_at, project, owner, source, mode):
    upstream_at(stub.url, "useapi")
    transform = make_request(project, owner, mode=mode, source_song=source, title="Harbour Lights (extend)",
                             tags="", model="FUZZ-0.8", seed=1234, instrumental=True, extend_at=1.0,
                             replace_start=0.2, replace_end=1.5)
    assert submit_transform(transform.pk) == "submitted"
    body = sent(stub)
    assert body["prompt_1"] == "sea shanty, accordion"
    assert (body["seed"], body["instrumental"], body["transform"]) == (1234, True, mode)


def test_dialect_b_sends_the_style_asked_for_over_the_source_style(stub, upstream_at, project, owner, source):
    upstream_at(stub.url, "useapi")
    cover = make_request(project, owner, mode="cover", source_song=source, tags="lofi", model="FUZZ-0.8")
    assert submit_transform(cover.pk) == "submitted"
    assert sent(stub)["prompt_1"] == "lofi"


def test_dialect_b_refuses_a_transform_with_no_style_at_all(stub, upstream_at, project, owner):
    upstream_at(stub.url, "useapi")
    upload = Upload.objects.create(project=project, created_by=owner, title="Demo take", status=Upload.Status.READY,
                                   upstream_id="up-1", audio_upload_id="up-1", duration=3.0)
    extend = make_request(project, owner, mode="extend", source_upload=upload, tags="", model="FUZZ-0.8",
                          extend_at=1.0)
    assert submit_transform(extend.pk) == "failed"
    extend.refresh_from_db()
    assert extend.status == Transform.Status.FAILED
    assert "needs style tags" in extend.songs.first().error
    assert not [r for r in stub.requests if r[0] == "POST"]


def test_dialect_b_sends_seed_on_inspiration(stub, upstream_at, project, owner):
    upstream_at(stub.url, "useapi")
    inspiration = make_request(project, owner, mode="inspiration", topic="a lighthouse", seed=5, model="FUZZ-0.8")
    assert submit_transform(inspiration.pk) == "submitted"
    assert (sent(stub)["prompt"], sent(stub)["seed"]) == ("a lighthouse", 5)
