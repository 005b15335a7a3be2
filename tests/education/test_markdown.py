"""Editors' Markdown reaches pages only through the sanitiser."""

import pytest
from django.template import Context, Template

from education.markdown import render_markdown

EVIL = """\
## Hello

Some **text** <script>alert('x')</script>

<img src="x" onerror="alert('img')">

<p onclick="alert('click')">click</p>

[bad link](javascript:alert('link')) and <a href="javascript:alert(1)">raw</a>

[good link](https://example.org/page) <iframe src="https://evil.example"></iframe>
<style>body{display:none}</style>
"""


def test_scripts_handlers_and_javascript_links_are_removed():
    html = str(render_markdown(EVIL))
    lowered = html.lower()
    assert "<script" not in lowered
    assert "alert(" not in lowered
    assert "onerror" not in lowered
    assert "onclick" not in lowered
    assert "javascript:" not in lowered
    assert "<iframe" not in lowered
    assert "<style" not in lowered
    assert "<img" not in lowered


def test_allowed_markup_survives_and_links_get_noopener():
    html = str(render_markdown(EVIL))
    assert "<h2>Hello</h2>" in html
    assert "<strong>text</strong>" in html
    assert '<a href="https://example.org/page" rel="noopener">good link</a>' in html


def test_lists_quotes_and_headings_are_kept_and_h1_becomes_h2():
    html = str(render_markdown("# Top\n\n1. one\n2. two\n\nBetween.\n\n- a\n\n> quoted\n\n### Sub"))
    assert "<h2>Top</h2>" in html and "<h1" not in html
    assert "<ol>" in html and "<ul>" in html and "<blockquote>" in html and "<h3>Sub</h3>" in html


def test_template_filter_renders_through_the_sanitiser():
    out = Template("{% load education %}{{ body|markdown }}").render(Context({"body": EVIL}))
    assert "<strong>text</strong>" in out
    assert "<script" not in out.lower() and "onerror" not in out.lower()


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_body_renders_nothing(empty):
    assert render_markdown(empty) == ""
