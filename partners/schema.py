"""What the partner API's OpenAPI 3.1 document says beyond what drf-spectacular
reads from the serializers (SPECTACULAR_SETTINGS names this module's hook and
webhook). The aim is a schema from which a generator makes a clean client
(tests/partners/test_generated_client.py runs openapi-python-client on it):

- every enum's member names, from its values (``x-enum-varnames``, which
  openapi-python-client and openapi-generator honour): ``3m_12m`` becomes
  ``FROM_3_MONTHS_TO_12_MONTHS``, not ``VALUE_2``;
- the treatments and their durations as named enums;
- the rules between fields that ReferralSerializer.validate enforces, in words
  and as JSON Schema ``if``/``then`` (so a validator or a test-data generator
  knows them before a 400 says so);
- the ``referral.stage_changed`` webhook and its signature headers.
"""

import re

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema

from intake import choices
from intake.transitions import Status

from .serializers import StageChangedEventSerializer

# Enum names in the singular, the thing each value is (ENUM_NAME_OVERRIDES
# points here; drf-spectacular would name them after the field, e.g. "KeyEnum").
STAGE_KEYS = Status.values
RED_FLAGS = choices.RedFlag.values
REGIONS = choices.Region.values
DIAGNOSES = choices.Diagnosis.values

_SPAN = re.compile(r"^(\d+)([wm])$")
_UNITS = {"w": "WEEKS", "m": "MONTHS"}


def enum_member_name(value: str) -> str:
    """A Python-style constant name for an enum value: ``herniated_disc`` ->
    ``HERNIATED_DISC``; durations spelled out (``lt_6w`` -> ``UNDER_6_WEEKS``,
    ``6w_3m`` -> ``FROM_6_WEEKS_TO_3_MONTHS``, ``gt_12m`` -> ``OVER_12_MONTHS``),
    as a name cannot start with a digit."""
    parts = value.split("_")
    spans = [_SPAN.match(p) for p in parts]
    words = {"lt": "UNDER", "gt": "OVER"}
    if any(spans):
        spelled = [
            f"{m.group(1)}_{_UNITS[m.group(2)]}" if m else words.get(p, p.upper())
            for p, m in zip(parts, spans, strict=True)
        ]
        if len(parts) == 2 and all(spans):
            return f"FROM_{spelled[0]}_TO_{spelled[1]}"
        return "_".join(spelled)
    name = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()
    return name if name and not name[0].isdigit() else f"V_{name}"


# The rules between fields, as ReferralSerializer.validate applies them (its
# tests send a body breaking each one and expect the 400 these describe).
CONSENT_FOR_METHOD = {"phone": "consent_phone", "text": "consent_text", "email": "consent_email"}
# The contact way chosen needs its detail (intake.forms.reach_errors): any one
# of email or phone is enough, and contact_method (required) says which.
DETAIL_FOR_METHOD = {"phone": "phone", "text": "phone", "email": "email"}
NOT_BLANK = {"type": "string", "pattern": r"\S"}


def _consent_rule(methods: list[tuple[str, str]]) -> dict:
    """if phone then consent_phone, else if text then consent_text, else consent_email.
    Nested rather than three if/then side by side: the same rule, with fewer
    alternatives for a tool that expands them (schemathesis gives up on 2^7)."""
    (method, consent), rest = methods[0], methods[1:]
    detail = DETAIL_FOR_METHOD[method]
    then = {"properties": {consent: {"const": True}, detail: NOT_BLANK}, "required": [consent, detail]}
    if not rest:
        return then
    return {
        "if": {"properties": {"contact_method": {"const": method}}, "required": ["contact_method"]},
        "then": then,
        "else": _consent_rule(rest),
    }


def referral_rules() -> list[dict]:
    # contact_method is required and one of the three, so the last "else" is its third value.
    rules = [_consent_rule(list(CONSENT_FOR_METHOD.items()))]
    rules += [
        {
            "if": {"properties": {"prior_surgery": {"const": True}}, "required": ["prior_surgery"]},
            "then": {"properties": {"prior_surgery_details": NOT_BLANK}, "required": ["prior_surgery_details"]},
        },
        {
            "if": {"properties": {"diagnoses": {"contains": {"const": "other"}}}, "required": ["diagnoses"]},
            "then": {"properties": {"diagnosis_other": NOT_BLANK}, "required": ["diagnosis_other"]},
        },
        {
            "if": {"properties": {"diagnoses": {"contains": {"const": "none"}}}, "required": ["diagnoses"]},
            "then": {"properties": {"diagnoses": {"maxItems": 1}}},
        },
        {
            "if": {
                "properties": {"mri_status": {"const": choices.MriStatus.CENTRE_SENDS.value}},
                "required": ["mri_status"],
            },
            "then": {
                "properties": {
                    "mri_taken_month": {"type": "string"},
                    "mri_region": {"type": "string"},
                    "imaging_centre": NOT_BLANK,
                },
                "required": ["mri_taken_month", "mri_region", "imaging_centre"],
            },
        },
    ]
    return rules


RULES_IN_WORDS = "\n".join(
    [
        "",
        "",
        "Rules between fields (a body that breaks one is refused with 400, the field named in `errors`):",
        "- `contact_method` `phone`, `text` or `email` needs the matching consent true: "
        "`consent_phone`, `consent_text` or `consent_email`.",
        "- `email` and `phone` are each optional, but the way chosen needs its detail: `email` for `email`, "
        "`phone` for `phone` and `text` (for `text`, a mobile that can take texts). So at least one is given.",
        "- `prior_surgery` true needs `prior_surgery_details` (what and the year).",
        "- `diagnoses` with `other` needs `diagnosis_other`; `none` stands alone (not with a diagnosis, "
        "nor with `unsure`).",
        "- `mri_status` `centre_sends` needs `mri_taken_month` (from 1980-01 to this month, not before the "
        "date of birth), `mri_region` and `imaging_centre`.",
        "- A patient under 18 on `date_of_birth` needs `submitted_by_guardian` true (a parent or guardian agrees).",
    ]
)


def postprocess(result, generator, request, public):
    """drf-spectacular's last step (POSTPROCESSING_HOOKS, after its enum hook)."""
    schemas = result["components"]["schemas"]
    schemas["TreatmentEnum"] = {"type": "string", "enum": list(choices.Treatment.values)}
    schemas["TreatmentDurationEnum"] = {"type": "string", "enum": list(choices.TreatmentDuration.values)}
    for schema in schemas.values():
        values = schema.get("enum")
        if values and all(isinstance(v, str) for v in values):
            schema["x-enum-varnames"] = [enum_member_name(v) for v in values]
    referral = schemas["ReferralRequest"]
    # Left out or null when there is no MRI (drf-spectacular would add a "" alternative: "" is
    # still accepted from older clients, but a generated client should not offer it).
    month, region = referral["properties"]["mri_taken_month"], referral["properties"]["mri_region"]
    referral["properties"]["mri_taken_month"] = {
        "type": ["string", "null"],
        "pattern": month["oneOf"][0]["pattern"],
        "default": None,
        "description": month["description"],
    }
    referral["properties"]["mri_region"] = {
        "oneOf": [region["allOf"][0], {"type": "null"}],
        "default": None,
        "description": region["description"],
    }
    referral["description"] = "A referral: the patient form's questions, as JSON." + RULES_IN_WORDS
    referral["allOf"] = referral_rules()
    return result


stage_changed = OpenApiWebhook(
    name="referral.stage_changed",
    decorator=extend_schema(
        summary="One of your referrals changed stage",
        description=(
            "POSTed to your endpoint, signed by the Standard Webhooks specification "
            "(https://www.standardwebhooks.com/): headers `webhook-id` (the event's id; a repeat carries the same), "
            "`webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "
            '"<id>.<timestamp>.<raw body>">` under your `whsec_` secret; two, space-separated, during a secret '
            "rotation). Answer 2xx within 5 s; anything else is tried again later. docs/partners.md has receivers "
            "in Python and JavaScript."
        ),
        request=StageChangedEventSerializer,
        responses={
            204: OpenApiResponse(description="Received (any 2xx)."),
        },
    ),
)
