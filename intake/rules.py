"""Pure routing rules: given a case's facts and the rules, which queue and why.

No database access and no side effects here, so the rules can be tested on a
table of cases and dry-run in the admin without writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import translation

from .choices import MriRegion, MriStatus, PainDuration, Region
from .models import MriCondition, RoutingRule, StaffQueue

# The MRI's region decides the review queue when the patient knows it;
# otherwise the pain regions do.
_MRI_REGION_TO_REGIONS = {
    MriRegion.NECK: {Region.NECK},
    MriRegion.UPPER_BACK: {Region.UPPER_BACK, Region.MID_BACK},
    MriRegion.LOWER_BACK: {Region.LOWER_BACK},
}


@dataclass(frozen=True)
class CaseFacts:
    """What routing may look at: no names, no free text."""

    red_flags: tuple[str, ...] = ()
    is_duplicate: bool = False
    mri_status: str = ""
    mri_taken_on: date | None = None
    mri_region: str = ""
    regions: tuple[str, ...] = ()
    pain_duration: str = ""
    severity: int | None = None
    language: str = "en"
    today: date = field(default_factory=date.today)

    @classmethod
    def of(cls, case, today: date | None = None) -> CaseFacts:
        return cls(
            red_flags=tuple(case.red_flags or ()),
            is_duplicate=case.is_duplicate,
            mri_status=case.mri_status or "",
            mri_taken_on=case.mri_taken_on,
            mri_region=case.mri_region or "",
            regions=tuple(case.regions or ()),
            pain_duration=case.pain_duration or "",
            severity=case.severity,
            language=getattr(case, "language", "") or "en",
            today=today or date.today(),
        )

    @property
    def has_mri(self) -> bool:
        return self.mri_status in (MriStatus.UPLOAD, MriStatus.CENTRE_SENDS)

    @property
    def review_regions(self) -> set[str]:
        region = MriRegion(self.mri_region) if self.mri_region in MriRegion.values else None
        if self.has_mri and region in _MRI_REGION_TO_REGIONS:
            return set(_MRI_REGION_TO_REGIONS[region])
        return set(self.regions)

    def mri_age_months(self) -> int | None:
        if not self.mri_taken_on:
            return None
        t, d = self.today, self.mri_taken_on
        return (t.year - d.year) * 12 + (t.month - d.month)


@dataclass(frozen=True)
class Decision:
    rule: RoutingRule | None
    queue: StaffQueue | None
    reason: str


def _label(choices_cls, value):
    try:
        # Staff read the reason, in English, whichever language routed it.
        with translation.override("en"):
            return str(choices_cls(value).label).lower()
    except ValueError:
        return value


def explain(rule, facts: CaseFacts) -> list[str] | None:
    """The reasons ``rule`` matches ``facts``, or None when it does not."""
    why: list[str] = []
    if rule.if_red_flag:
        if not facts.red_flags:
            return None
        why.append(f"{len(facts.red_flags)} red flag(s) reported")
    if rule.if_duplicate:
        if not facts.is_duplicate:
            return None
        why.append("likely duplicate of an open case")
    if rule.if_mri == MriCondition.PROVIDED_OR_COMING:
        if not facts.has_mri:
            return None
        why.append("MRI uploaded or on its way")
    elif rule.if_mri == MriCondition.NONE:
        if facts.has_mri:
            return None
        why.append("no MRI yet")
    if rule.if_mri_older_than_months is not None:
        age = facts.mri_age_months()
        if age is None or age <= rule.if_mri_older_than_months:
            return None
        why.append(f"MRI is {age} months old (over {rule.if_mri_older_than_months})")
    if rule.if_regions:
        hit = facts.review_regions & set(rule.if_regions)
        if not hit:
            return None
        why.append("region: " + ", ".join(sorted(_label(Region, r) for r in hit)))
    if rule.if_pain_durations:
        if facts.pain_duration not in rule.if_pain_durations:
            return None
        why.append(f"pain for {_label(PainDuration, facts.pain_duration)}")
    if rule.if_min_severity is not None:
        if facts.severity is None or facts.severity < rule.if_min_severity:
            return None
        why.append(f"severity {facts.severity} of 10 (at least {rule.if_min_severity})")
    if rule.if_language:
        if facts.language != rule.if_language:
            return None
        why.append(f"language: {facts.language}")
    return why


def decide(facts: CaseFacts, rules) -> Decision:
    """First active rule, by priority, whose conditions all hold."""
    for rule in sorted(rules, key=lambda r: r.priority):
        if not rule.is_active:
            continue
        why = explain(rule, facts)
        if why is not None:
            because = "; ".join(why) if why else "no more specific rule matched"
            return Decision(rule, rule.target_queue, f"Rule {rule.priority} '{rule.name}': {because}.")
    return Decision(None, None, "No active rule matched.")
