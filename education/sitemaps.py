"""Sitemaps for /sitemap.xml: the home page, the library, and published
stretches, conditions and routines only (drafts must not leak through here)."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Condition, Routine, Stretch


class StaticSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return ["home", "education:library"]

    def location(self, item):
        return reverse(item)


class ContentSitemap(Sitemap):
    model = None
    changefreq = "monthly"
    priority = 0.6

    def items(self):
        return self.model.objects.published().order_by("pk")

    def lastmod(self, obj):
        return obj.updated_at


class StretchSitemap(ContentSitemap):
    model = Stretch


class ConditionSitemap(ContentSitemap):
    model = Condition


class RoutineSitemap(ContentSitemap):
    model = Routine


SITEMAPS = {
    "static": StaticSitemap,
    "stretches": StretchSitemap,
    "conditions": ConditionSitemap,
    "routines": RoutineSitemap,
}
