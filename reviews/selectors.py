"""Reads of the reviews app: the current review, its amendment history with
who changed what, and a case's consult."""

from django.db.models import Prefetch

from .choices import Decision
from .models import Consult, LevelFinding, Review, ReviewVersion

VERSION_LABELS = {
    "impression": "Impression",
    "decision": "Decision",
    "decision_detail": "Decision detail",
    "next_step": "Recommended next step",
}
FINDING_LABELS = {
    "disc_bulge": "disc bulge",
    "herniation": "herniation",
    "herniation_side": "herniation side",
    "central_stenosis": "central stenosis",
    "foraminal_side": "foraminal side",
    "foraminal_grade": "foraminal grade",
    "spondylolisthesis": "spondylolisthesis",
    "other": "other",
}


def _versions(case_id: int):
    return (
        ReviewVersion.objects.filter(review__case_id=case_id)
        .select_related("author")
        .prefetch_related(Prefetch("findings", queryset=LevelFinding.objects.order_by("pk")))
        .order_by("number")
    )


def review_current(case_id: int) -> ReviewVersion | None:
    """The latest version of the case's review (with findings and author), or None."""
    return _versions(case_id).order_by("-number").first()


# A newer review is under way: the last letter no longer tells the patient
# where they stand, so it is not shown (nor downloadable) until the next one.
LETTER_HIDDEN_IN = {"submitted", "triage", "mri_received", "in_review"}


def letter_for_patient(case) -> ReviewVersion | None:
    """The review version the patient's letter is made from, if one is to be shown."""
    if case is None or case.status in LETTER_HIDDEN_IN or case.purged_at is not None:
        return None
    return review_current(case.pk)


def review_head_version(case_id: int) -> int:
    return Review.objects.filter(case_id=case_id).values_list("version", flat=True).first() or 0


def _shown(field: str, value) -> str:
    if field == "decision":
        return str(Decision(value).label) if value else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "—"


def _finding_values(version: ReviewVersion) -> dict[str, dict]:
    return {f.level: {k: getattr(f, k) for k in FINDING_LABELS} for f in version.findings.all()}


def version_changes(old: ReviewVersion | None, new: ReviewVersion) -> list[str]:
    """What ``new`` changed compared with ``old``, one line per field (staff only)."""
    if old is None:
        return ["First version"]
    lines = []
    for field, label in VERSION_LABELS.items():
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            lines.append(f"{label}: “{_shown(field, before)}” → “{_shown(field, after)}”")
    old_f, new_f = _finding_values(old), _finding_values(new)
    for level in sorted(set(old_f) | set(new_f), key=lambda lv: (lv not in new_f, lv)):
        if level not in old_f:
            lines.append(f"{level}: added")
        elif level not in new_f:
            lines.append(f"{level}: removed")
        else:
            for key, label in FINDING_LABELS.items():
                if old_f[level][key] != new_f[level][key]:
                    before, after = _shown(key, old_f[level][key]), _shown(key, new_f[level][key])
                    lines.append(f"{level} {label}: {before} → {after}")
    return lines or ["No changes"]


def review_history(case_id: int) -> list[dict]:
    """Every version, newest first, with its author, time and changes."""
    versions = list(_versions(case_id))
    history = []
    for i, version in enumerate(versions):
        previous = versions[i - 1] if i else None
        history.append({"version": version, "changes": version_changes(previous, version)})
    return list(reversed(history))


def consult_current(case_id: int) -> Consult | None:
    """The case's latest booking."""
    return Consult.objects.filter(case_id=case_id).select_related("clinician").order_by("-created_at").first()
