""" "Central" is two things in the catalogue: the clinic's time zone and where a
disc herniation points. In Spanish they read differently, so each has its own
entry: a central herniation must never read "hora del Centro"."""

from django.utils import translation

from clinic.templatetags.clinic_time import ZONE_NAMES
from reviews.choices import Side


def test_a_central_herniation_and_the_central_time_zone_read_apart_in_spanish():
    with translation.override("es"):
        assert str(Side.CENTRAL.label) == "Central"
        assert str(ZONE_NAMES["America/Chicago"]) == "hora del Centro"
    with translation.override("en"):
        assert str(Side.CENTRAL.label) == str(ZONE_NAMES["America/Chicago"]) == "Central"
