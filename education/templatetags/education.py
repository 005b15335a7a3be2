"""Template helpers for the stretching pages: ``{% load education %}``."""

from django import template

from clinic.red_flags import EMERGENCY_FLAGS, RedFlag

from ..markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """Render an editor's Markdown through the sanitiser: ``{{ body|markdown }}``."""
    return render_markdown(text)


@register.simple_tag
def red_flags():
    """The red flags the intake screens for, emergency ones first, as
    ``{"label", "emergency"}`` dicts.

    Read from the intake's own list so the advice on the stretching pages can
    never drift from the questions the request asks.
    """
    flags = sorted(RedFlag, key=lambda f: f not in EMERGENCY_FLAGS)
    return [{"label": f.label, "emergency": f in EMERGENCY_FLAGS} for f in flags]


@register.filter
def seconds_as_clock(seconds):
    """30 -> "0:30"; what the hold timer shows before it starts."""
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.filter
def admin_change_url(obj):
    """The admin page that edits ``obj`` (used by the preview banner)."""
    from django.urls import reverse

    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
