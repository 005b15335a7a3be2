"""The vocabularies of a review request, shared by forms, rules and the admin."""

import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The red-flag vocabulary is the project's: the public pages show it without intake.
from clinic.red_flags import EMERGENCY_FLAGS, RedFlag  # noqa: F401  (re-exported for the request's forms and rules)


class Region(models.TextChoices):
    # In spine order, the same order the stretching content uses.
    NECK = "neck", _("Neck")
    UPPER_BACK = "upper_back", _("Upper back (between the shoulder blades)")
    MID_BACK = "mid_back", _("Middle back")
    LOWER_BACK = "lower_back", _("Lower back")
    HIPS_LEGS = "hips_legs", _("Hips, buttocks or legs")


NECK_REGIONS = {Region.NECK}
BACK_REGIONS = {Region.UPPER_BACK, Region.MID_BACK, Region.LOWER_BACK, Region.HIPS_LEGS}


class Side(models.TextChoices):
    LEFT = "left", _("Mostly left")
    RIGHT = "right", _("Mostly right")
    BOTH = "both", _("Both sides or the middle")
    UNSURE = "unsure", _("Not sure")


class PainDuration(models.TextChoices):
    # Ordered from shortest to longest: rules compare by position.
    UNDER_6_WEEKS = "lt_6w", _("Less than 6 weeks")
    WEEKS_6_TO_3_MONTHS = "6w_3m", _("6 weeks to 3 months")
    MONTHS_3_TO_12 = "3m_12m", _("3 to 12 months")
    OVER_A_YEAR = "gt_12m", _("More than a year")


DURATION_ORDER = [c.value for c in PainDuration]


class Diagnosis(models.TextChoices):
    HERNIATED = "herniated_disc", _("Herniated disc")
    BULGING = "bulging_disc", _("Bulging disc")
    STENOSIS = "spinal_stenosis", _("Spinal stenosis")
    ARTHRITIS = "spine_arthritis", _("Arthritis of the spine")
    DDD = "degenerative_disc", _("Degenerative disc disease")
    SCIATICA = "sciatica", _("Sciatica")
    OTHER = "other", _("Something else")
    NONE = "none", _("I have not been told of a diagnosis")
    UNSURE = "unsure", _("I am not sure")


class Treatment(models.TextChoices):
    STRETCHING = "stretching", _("Stretching or exercise at home")
    PHYSIO = "physical_therapy", _("Physical therapy")
    MEDICATION = "medication", _("Medication")
    INJECTIONS = "injections", _("Injections")
    CHIRO = "chiropractic", _("Chiropractic care")


class TreatmentDuration(models.TextChoices):
    UNDER_6_WEEKS = "lt_6w", _("Less than 6 weeks")
    WEEKS_6_TO_3_MONTHS = "6w_3m", _("6 weeks to 3 months")
    OVER_3_MONTHS = "gt_3m", _("More than 3 months")


class MriStatus(models.TextChoices):
    NONE = "none", _("I have not had an MRI")
    UPLOAD = "upload", _("I have one and will upload it")
    CENTRE_SENDS = "centre_sends", _("I have one and my imaging centre will send it")


class MriRegion(models.TextChoices):
    NECK = "neck", _("Neck (cervical spine)")
    UPPER_BACK = "upper_back", _("Upper or middle back (thoracic spine)")
    LOWER_BACK = "lower_back", _("Lower back (lumbar spine)")
    UNSURE = "unsure", _("Not sure")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    TEXT = "text", _("Text message")
    EMAIL = "email", _("Email")


class ContactTime(models.TextChoices):
    MORNING = "morning", _("Morning (8 am to noon)")
    AFTERNOON = "afternoon", _("Afternoon (noon to 5 pm)")
    ANY = "any", _("Any time")


class Source(models.TextChoices):
    ARTICLE = "article", _("Your stretching articles")
    SEARCH = "search", _("A web search")
    DOCTOR = "doctor", _("My doctor")
    FRIEND = "friend", _("A friend or family member")
    SOCIAL = "social", _("Social media")
    OTHER = "other", _("Somewhere else")


class Kind(models.TextChoices):
    REVIEW = "review", _("MRI review request")
    URGENT_CALLBACK = "urgent_callback", _("Urgent call-back")


class DecisionReason(models.TextChoices):
    SURGICAL_CANDIDATE = "procedure_candidate", _("Findings fit a procedure we offer")
    CONSERVATIVE = "conservative_care", _("Conservative care plan")
    IMAGING_INSUFFICIENT = "imaging_insufficient", _("Imaging insufficient or too old")
    OUTSIDE_SCOPE = "outside_scope", _("Outside what the clinic treats")
    NEEDS_INFO = "needs_information", _("More information needed from the patient")
    REFER_ELSEWHERE = "refer", _("Referred to another specialist")


# The names as a patient reads them in their language (Spanish: Nueva York,
# Carolina del Norte...); the two-letter code is what is stored. The context
# keeps "Alaska" the state apart from "Alaska" the time zone (clinic_time),
# written out in each call so that makemessages finds it.
US_STATES = [
    ("AL", pgettext_lazy("US state", "Alabama")),
    ("AK", pgettext_lazy("US state", "Alaska")),
    ("AZ", pgettext_lazy("US state", "Arizona")),
    ("AR", pgettext_lazy("US state", "Arkansas")),
    ("CA", pgettext_lazy("US state", "California")),
    ("CO", pgettext_lazy("US state", "Colorado")),
    ("CT", pgettext_lazy("US state", "Connecticut")),
    ("DE", pgettext_lazy("US state", "Delaware")),
    ("DC", pgettext_lazy("US state", "District of Columbia")),
    ("FL", pgettext_lazy("US state", "Florida")),
    ("GA", pgettext_lazy("US state", "Georgia")),
    ("HI", pgettext_lazy("US state", "Hawaii")),
    ("ID", pgettext_lazy("US state", "Idaho")),
    ("IL", pgettext_lazy("US state", "Illinois")),
    ("IN", pgettext_lazy("US state", "Indiana")),
    ("IA", pgettext_lazy("US state", "Iowa")),
    ("KS", pgettext_lazy("US state", "Kansas")),
    ("KY", pgettext_lazy("US state", "Kentucky")),
    ("LA", pgettext_lazy("US state", "Louisiana")),
    ("ME", pgettext_lazy("US state", "Maine")),
    ("MD", pgettext_lazy("US state", "Maryland")),
    ("MA", pgettext_lazy("US state", "Massachusetts")),
    ("MI", pgettext_lazy("US state", "Michigan")),
    ("MN", pgettext_lazy("US state", "Minnesota")),
    ("MS", pgettext_lazy("US state", "Mississippi")),
    ("MO", pgettext_lazy("US state", "Missouri")),
    ("MT", pgettext_lazy("US state", "Montana")),
    ("NE", pgettext_lazy("US state", "Nebraska")),
    ("NV", pgettext_lazy("US state", "Nevada")),
    ("NH", pgettext_lazy("US state", "New Hampshire")),
    ("NJ", pgettext_lazy("US state", "New Jersey")),
    ("NM", pgettext_lazy("US state", "New Mexico")),
    ("NY", pgettext_lazy("US state", "New York")),
    ("NC", pgettext_lazy("US state", "North Carolina")),
    ("ND", pgettext_lazy("US state", "North Dakota")),
    ("OH", pgettext_lazy("US state", "Ohio")),
    ("OK", pgettext_lazy("US state", "Oklahoma")),
    ("OR", pgettext_lazy("US state", "Oregon")),
    ("PA", pgettext_lazy("US state", "Pennsylvania")),
    ("RI", pgettext_lazy("US state", "Rhode Island")),
    ("SC", pgettext_lazy("US state", "South Carolina")),
    ("SD", pgettext_lazy("US state", "South Dakota")),
    ("TN", pgettext_lazy("US state", "Tennessee")),
    ("TX", pgettext_lazy("US state", "Texas")),
    ("UT", pgettext_lazy("US state", "Utah")),
    ("VT", pgettext_lazy("US state", "Vermont")),
    ("VA", pgettext_lazy("US state", "Virginia")),
    ("WA", pgettext_lazy("US state", "Washington")),
    ("WV", pgettext_lazy("US state", "West Virginia")),
    ("WI", pgettext_lazy("US state", "Wisconsin")),
    ("WY", pgettext_lazy("US state", "Wyoming")),
]


def _collation_key(name: str) -> str:
    # Accents and case aside, as a reader scans a list ("Míchigan" among the M's).
    return "".join(c for c in unicodedata.normalize("NFD", str(name)) if not unicodedata.combining(c)).casefold()


def us_states_by_name() -> list[tuple[str, str]]:
    """The states in the alphabetical order of the active language: in Spanish
    "Carolina del Norte" comes among the C's and "Nueva York" among the N's."""
    return sorted(((code, str(name)) for code, name in US_STATES), key=lambda item: _collation_key(item[1]))
