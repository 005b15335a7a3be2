"""The vocabularies of a structured review. Pure: no database access."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def _levels() -> list[str]:
    cervical = [f"C{n}-{n + 1}" for n in range(2, 7)] + ["C7-T1"]
    thoracic = [f"T{n}-{n + 1}" for n in range(1, 12)] + ["T12-L1"]
    lumbar = [f"L{n}-{n + 1}" for n in range(1, 5)] + ["L5-S1"]
    return cervical + thoracic + lumbar


# C2-3 ... L5-S1, in spine order (the order findings are listed in).
LEVELS = _levels()
LEVEL_ORDER = {level: i for i, level in enumerate(LEVELS)}
Level = models.TextChoices("Level", [(lv.replace("-", "_"), (lv, lv.replace("-", "–"))) for lv in LEVELS])


class Decision(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    NOT_CANDIDATE = "not_candidate", _("Not a candidate (conservative care)")
    NEEDS_MORE_INFO = "needs_more_info", _("Needs more information")
    NEW_IMAGING = "new_imaging", _("New imaging needed")


class Grade(models.TextChoices):
    NONE = "", _("None")
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class Side(models.TextChoices):
    NONE = "", _("None")
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    # "Central" is also a time zone's name (clinic_time): a context keeps the two apart.
    CENTRAL = "central", pgettext_lazy("where a disc herniation points", "Central")
    BOTH = "both", _("Both sides")


class Listhesis(models.TextChoices):
    NONE = "", _("None")
    GRADE_1 = "1", _("Grade 1")
    GRADE_2 = "2", _("Grade 2")
    GRADE_3 = "3", _("Grade 3")
    GRADE_4 = "4", _("Grade 4")
