"""A comment's text as HTML: escaped, `@member` marked, `1:23` a link that seeks the player."""

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()

# A mention, or a timestamp m:ss (optionally h:mm:ss); anything else is plain text.
TOKEN = re.compile(r"(?P<mention>(?<![\w@])@[\w.+-]{1,150})|(?P<time>\b(?:\d{1,2}:)?\d{1,3}:[0-5]\d\b)")


def seconds(stamp: str) -> int:
    total = 0
    for part in stamp.split(":"):
        total = total * 60 + int(part)
    return total


@register.simple_tag
def comment_text(comment, song_pk: int):
    """Timestamps seek the song's waveform player (data-key song-<id>)."""
    player = f"song-{song_pk}"
    names = getattr(comment, "mentioned_names", None)  # loaded with the threads (Comment.objects.threads)
    if names is None:
        names = {user.username for user in comment.mentions.all()}
    out, last = [], 0
    for match in TOKEN.finditer(comment.text):
        out.append(escape(comment.text[last:match.start()]))
        token = match.group()
        if match.group("mention") and token[1:].rstrip(".") in names:
            name = token[1:].rstrip(".")
            out.append(format_html('<strong class="mention">@{}</strong>{}', name, token[1 + len(name):]))
        elif match.group("time"):
            out.append(format_html('<a href="#{}" class="seek" data-seek="{}" data-seek-in="{}">{}</a>',
                                   player, seconds(token), player, token))
        else:
            out.append(escape(token))
        last = match.end()
    out.append(escape(comment.text[last:]))
    return mark_safe("".join(out))  # every piece above is escaped or built by format_html


@register.filter
def clock(value) -> str:
    s = float(value or 0)
    return f"{int(s // 60)}:{s % 60:04.1f}"
