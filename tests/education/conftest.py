import pytest


@pytest.fixture
def content(db):
    """The starter content, as ``seed_demo`` loads it."""
    from education.seed import seed_content

    seed_content()


@pytest.fixture
def make_stretch(db):
    from education.choices import SpineRegion
    from education.models import Stretch

    def make(name, region=SpineRegion.NECK, **extra):
        fields = {
            "slug": name.lower().replace(" ", "-"),
            "summary": f"{name} summary.",
            "helps": "Helps.",
            "steps": "1. Step.",
            "hold_seconds": 25,
            "breathing_cue": "Breathe slowly.",
            "reviewed_by": "Spine team (PT, DPT)",
            "reviewed_on": "2026-11-16",
            "is_published": True,
        }
        fields.update(extra)
        stretch = Stretch(name=name, region=region, **fields)
        stretch.full_clean()
        stretch.save()
        return stretch

    return make
