"""Tags the song card partials use: the one sentence, the version, the form to edit a request in.

The sentence and the version depend on whether the music service is reachable: the page's
context says so in `unreachable` (False when a view did not look, e.g. after editing one row).
"""

from django import template

from riffweb.studio import cards
from riffweb.studio.page_context import reuse_url as reuse_url_of

register = template.Library()


@register.simple_tag(takes_context=True)
def card_message(context, song) -> str:
    return song.card_message(bool(context.get("unreachable")))


@register.simple_tag(takes_context=True)
def card_version(context, song) -> str:
    return cards.version(song, bool(context.get("unreachable")))


@register.filter
def reuse_url(transform) -> str:
    return reuse_url_of(transform)
