"""Issue 18 in Chromium at 360 px: pictures in the library and guided mode pass
axe, load from our own origin only, and a routine prints on at most two pages."""

import re

import pytest

from tests.browser.conftest import axe_violations, open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def content(transactional_db):
    from education.seed import seed_content

    seed_content()


@pytest.fixture
def phone(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def shown_pictures(page):
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stretch-picture]')].map(img => ({
            alt: img.alt, complete: img.complete, width: img.naturalWidth,
            shown: img.getBoundingClientRect().width}))"""
    )


def test_library_cards_at_360_px(phone, live_server, content):
    phone.goto(f"{live_server.url}/stretching/")
    cards = phone.get_by_test_id("library-stretch")
    assert cards.count() >= 15
    # Scroll through so the lazy pictures load, as a reader would.
    for i in range(cards.count()):
        cards.nth(i).scroll_into_view_if_needed()
    phone.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stretch-picture]')].every(i => i.complete && i.naturalWidth > 0)"
    )
    pictures = shown_pictures(phone)
    assert len(pictures) == cards.count()
    assert all(p["alt"] and 250 <= p["shown"] <= 360 for p in pictures), pictures
    # Nothing wider than the screen.
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert axe_violations(phone) == []
    assert phone.watch.csp_violations == [] and phone.watch.foreign_requests == []


def test_guided_mode_shows_the_picture_at_360_px(phone, live_server, content):
    phone.goto(f"{live_server.url}/stretching/routines/lower-back-and-sciatica/guided/1/")
    picture = phone.get_by_test_id("stretch-picture")
    picture.wait_for()
    phone.wait_for_function("() => document.querySelector('[data-testid=stretch-picture]').naturalWidth > 0")
    assert "hands and knees" in picture.get_attribute("alt")
    # The picture comes before the timer, both on screen near the top.
    box_picture, box_timer = picture.bounding_box(), phone.locator(".hold-timer").bounding_box()
    assert box_picture["y"] < box_timer["y"]
    assert axe_violations(phone) == []
    assert phone.watch.csp_violations == []


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("routine", ["neck-and-shoulders", "lower-back-and-sciatica", "whole-spine"])
def test_each_routine_prints_on_at_most_two_pages(browser, live_server, content, paper, routine):
    context, pg = open_page(browser, live_server, width=1000, height=1200)
    try:
        pg.goto(f"{live_server.url}/stretching/routines/{routine}/print/")
        pg.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stretch-picture]')].every(i => i.complete && i.naturalWidth > 0)"
        )
        pg.emulate_media(media="print")
        # The site's header and footer are not printed; the safety note is.
        assert pg.locator("header").is_hidden()
        assert pg.locator(".print-safety").is_visible()
        pdf = pg.pdf(format=paper, print_background=False)
    finally:
        context.close()
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert 1 <= pages <= 2, f"{routine} on {paper}: {pages} pages"
