"""Tags the song card partials use: the one sentence, the version, the form to edit a request in.

The sentence and the version depend on whether the music service is reachable: the page's
context says so in `unreachable` (False when a view did not look, e.g. after editing one row).
"""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

from riffweb.studio import cards
from riffweb.studio.page_context import reuse_url as reuse_url_of

register = template.Library()
# Stands for the pk in a route reversed once: a page of rows then costs a str.replace per link
# instead of a walk of the URL resolver (benchmarks/library_bench.py).
PLACEHOLDER = 9_876_543_210_123


@lru_cache(maxsize=128)
def _route(name: str, script_prefix: str) -> str:
    return reverse(name, args=[PLACEHOLDER])


@register.filter
def pk_url(pk, name: str) -> str:
    """`{{ song.pk|pk_url:"library:song_edit" }}`: reverse(name, args=[pk]), cached per route."""
    return _route(name, get_script_prefix()).replace(str(PLACEHOLDER), str(int(pk)))


@register.filter(expects_localtime=True)
def day(value) -> str:
    """`{{ song.created_at|day }}`: the local date as `date:"Y-m-d"` writes it (2026-12-01), without
    that filter's look-up of the language and its format on every call (~30 µs a library row)."""
    return value.date().isoformat() if value else ""


@register.filter
def whole(value) -> str:
    """`{{ song.duration|whole }}`: seconds rounded half up, as `floatformat:0` writes them, without
    its Decimal arithmetic and look-up of the language (~12 µs a library row)."""
    return str(int(value + 0.5))


@register.simple_tag(takes_context=True)
def card_message(context, song) -> str:
    return song.card_message(bool(context.get("unreachable")))


@register.simple_tag(takes_context=True)
def card_version(context, song) -> str:
    return cards.version(song, bool(context.get("unreachable")))


@register.filter
def reuse_url(transform) -> str:
    return reuse_url_of(transform)
