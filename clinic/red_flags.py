"""The red-flag screen's vocabulary: symptoms that need care today, and which
of them need the emergency department now.

It belongs to the project, not to intake: the public pages (the urgent-advice
page here, the stretching pages in education) show it without depending on
the request app, and intake's screen and routing use the same words
(``intake.choices`` re-exports them).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RedFlag(models.TextChoices):
    BLADDER_BOWEL = "bladder_bowel", _("New loss of control of your bladder or bowels")
    SADDLE_NUMBNESS = "saddle_numbness", _("Numbness in the groin, buttocks or inner thighs")
    WEAKNESS = "weakness", _("New or worsening weakness in your legs or arms")
    FEVER = "fever", _("Fever or chills together with your back or neck pain")
    TRAUMA = "trauma", _("A recent serious fall, accident or injury")
    CANCER = "cancer", _("A history of cancer")
    WEIGHT_LOSS = "weight_loss", _("Weight loss you cannot explain")
    GAIT_HANDS = "gait_hands", _("Clumsy hands or new trouble walking or keeping your balance")


# These need the emergency department now; the rest need same-day care.
EMERGENCY_FLAGS = {RedFlag.BLADDER_BOWEL, RedFlag.SADDLE_NUMBNESS, RedFlag.WEAKNESS, RedFlag.GAIT_HANDS}
