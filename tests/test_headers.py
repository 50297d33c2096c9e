"""Every page carries the security headers, and nothing inline runs without this response's nonce."""

import re

import pytest
from django.test import Client

from tests.conftest import finish_song, make_request


@pytest.fixture
def pages(owner_client, project, owner):
    """(client, url): the log-in page as a visitor sees it, the studio's pages as a member does."""
    song = finish_song(make_request(project, owner).songs.get(variant=0))
    member = [(owner_client, url) for url in ("/", project.get_absolute_url(), song.get_absolute_url(), "/library/")]
    return [(Client(), "/login/"), *member]


def test_pages_send_a_strict_content_security_policy_and_a_permissions_policy(pages):
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        assert "camera=()" in response["Permissions-Policy"] and "microphone=()" in response["Permissions-Policy"]


def test_no_inline_script_or_style_without_the_nonce(pages):
    for client, url in pages:
        response = client.get(url)
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            assert nonce and f'nonce="{nonce.group(1)}"' in tag, (url, tag)
        assert "<style" not in html, url
        assert not re.search(r"\sstyle=\"", html), url
        assert not re.search(r"\son[a-z]+=\"", html), url  # no inline event handlers


def test_hsts_binds_subdomains_and_preload_lists_only_when_the_operator_asks(settings):
    # The suite runs production settings with neither SECURE_HSTS_* variable set.
    assert settings.SECURE_HSTS_SECONDS > 0
    assert settings.SECURE_HSTS_PRELOAD is False and settings.SECURE_HSTS_INCLUDE_SUBDOMAINS is False
