"""The spine regions of the stretching content, in the order a routine runs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SpineRegion(models.IntegerChoices):
    """Neck first, hips and legs last.

    Stored as integers so the database sorts in spine order (the intake's
    ``Region`` uses text values, which would sort alphabetically).
    """

    NECK = 1, _("Neck")
    UPPER_BACK = 2, _("Upper back")
    MID_BACK = 3, _("Mid back")
    LOWER_BACK = 4, _("Lower back")
    HIPS_LEGS = 5, _("Hips and legs")


# A hold shorter than 20 s does little; longer than 30 s adds little and
# tempts people to push into pain. The design fixes the range.
HOLD_MIN_SECONDS = 20
HOLD_MAX_SECONDS = 30
