from django import template

from riffweb.upstream import dialects

register = template.Library()


@register.simple_tag
def unavailable(feature: str) -> str:
    """Why the configured music service lacks a feature ("" when it has it)."""
    return dialects.reason(feature)
