"""The spine regions of the stretching content, in the order a routine runs."""

from django.db import models


class SpineRegion(models.IntegerChoices):
    """Neck first, hips and legs last.

    Stored as integers so the database sorts in spine order (the intake's
    ``Region`` uses text values, which would sort alphabetically).
    """

    NECK = 1, "Neck"
    UPPER_BACK = 2, "Upper back"
    MID_BACK = 3, "Mid back"
    LOWER_BACK = 4, "Lower back"
    HIPS_LEGS = 5, "Hips and legs"


# A hold shorter than 20 s does little; longer than 30 s adds little and
# tempts people to push into pain. The design fixes the range.
HOLD_MIN_SECONDS = 20
HOLD_MAX_SECONDS = 30
