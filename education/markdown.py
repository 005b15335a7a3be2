"""Markdown from editors, rendered to HTML that is safe to put on a page.

Supervisors write bodies in Markdown in the admin. Markdown passes raw HTML
straight through, so its output is never trusted: nh3 (the Rust ammonia
sanitizer) keeps only the allow-listed tags below and drops everything else,
including scripts, event handlers, styles and ``javascript:`` links.
"""

import re
from functools import lru_cache

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "h2", "h3", "h4", "blockquote", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
# Relative links (to our own pages) pass; of absolute ones, only these schemes.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
# The page owns its <h1>; an editor's top-level heading becomes an <h2>
# rather than losing its heading role (h1 is not on the allow-list).
_H1 = re.compile(r"<(/?)h1\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _render(text: str) -> str:
    # Cached on the source text: the same few bodies render on every request,
    # and the sanitiser is the expensive part (PERFORMANCE.md: CPU per request).
    html = _H1.sub(r"<\1h2", md.markdown(text, output_format="html"))
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


def render_markdown(text: str | None) -> SafeString:
    """Return sanitised HTML for ``text``; safe to output without escaping."""
    if not text:
        return mark_safe("")
    return mark_safe(_render(str(text)))  # nh3 allow-list output
