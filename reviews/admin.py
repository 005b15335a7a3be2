"""The staff pages of the reviews app, inside the admin (sign-in, second
factor): the structured review of a case with its amendment history, and the
consult booking. Each looks the case up through intake's queue scoping
(``ReviewRequest.objects.visible_to``, as the case admin does), so a case
outside the user's queues is a 404. Clinicians write the review; coordinators
read it and book the consult. Views route; forms validate; services write."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.models import AuditEntry, audit_record
from intake.models import ReviewRequest
from intake.services.errors import ServiceError
from intake.transitions import Status

from .forms import (
    ConsultForm,
    FindingFormSet,
    ReviewForm,
    default_consult_day,
    finding_initial,
    findings_with_one_more_row,
)
from .selectors import consult_current, review_current, review_head_version, review_history
from .services import (
    PATIENT_FIELDS,
    can_schedule_consult,
    can_write_review,
    consult_schedule,
    review_images_opened,
    review_save,
)


def _visible_case(request, case_id: int) -> ReviewRequest:
    if not request.user.has_perm("intake.view_reviewrequest"):
        raise PermissionDenied
    case = ReviewRequest.objects.visible_to(request.user).filter(pk=case_id, purged_at__isnull=True).first()
    if case is None:
        raise Http404("No such case in your queues.")
    return case


def _review_url(case) -> str:
    return reverse("admin:reviews_case_review", args=[case.pk])


def _viewer(request, case) -> dict:
    """The image viewer beside the form, for staff who may open MRI files. The
    page opens the case's first series as the viewer page does (recorded by
    the viewer's read audit): images shown beside the form count as opened."""
    if not request.user.has_perm("intake.view_mrifile"):
        return {"show_viewer": False}
    from imaging.views import viewer_context  # the viewer's own page builder

    return {"show_viewer": True, **viewer_context(request, case)}


@require_http_methods(["GET", "POST"])
def review_view(request, case_id: int):
    case = _visible_case(request, case_id)
    can_write = can_write_review(request.user)
    current = review_current(case.pk)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if "add_finding" in request.POST:
            # "Add a level" without JavaScript: the same form back with one row more, nothing saved.
            form = ReviewForm(request.POST, patient_language=case.language)
            findings = FindingFormSet(findings_with_one_more_row(request.POST), prefix="f")
            return _review_page(request, case, current, can_write, form, findings)
        form = ReviewForm(request.POST, patient_language=case.language)
        findings = FindingFormSet(request.POST, prefix="f")
        if form.is_valid() and findings.is_valid():
            data = {**form.cleaned_data, "findings": [f for f in findings.cleaned_data if f.get("level")]}
            try:
                version = review_save(
                    case=case, author=request.user, data=data, expected_version=form.cleaned_data["version"]
                )
            except ServiceError as exc:
                text = str(exc)
                messages.error(request, text if text.startswith("Not saved") else f"Not saved: {text}")
            else:
                messages.success(request, f"Review version {version.number} saved for {case.reference}.")
                return HttpResponseRedirect(_review_url(case))
    else:
        audit_record(
            action=AuditEntry.Action.VIEW_CASE,
            summary="Viewed the structured review",
            actor=request.user,
            request=request,
            object_type="case",
            object_ref=case.reference,
        )
        initial = {"version": review_head_version(case.pk)}
        if current is not None:
            keep = ("impression", "decision", "decision_detail", "next_step", *PATIENT_FIELDS, "no_images_reason")
            initial |= {k: getattr(current, k) for k in keep}
        form = ReviewForm(initial=initial, patient_language=case.language)
        findings = FindingFormSet(initial=finding_initial(current), prefix="f")
    return _review_page(request, case, current, can_write, form, findings)


def _review_page(request, case, current, can_write, form, findings):
    viewer = _viewer(request, case)  # first: its opening of the first series counts below
    consult = consult_current(case.pk)
    can_book = can_schedule_consult(request.user) and case.status == Status.CANDIDATE
    context = {
        **admin.site.each_context(request),
        "title": f"Structured review of {case.reference}",
        "case": case,
        "current": current,
        "history": review_history(case.pk),
        "can_write": can_write,
        "form": form,
        "findings": findings,
        "images_opened": can_write and review_images_opened(case=case, user=request.user),
        "consult": consult,
        "consult_form": ConsultForm(initial={"version": case.version, "day": default_consult_day()})
        if can_book
        else None,
        **viewer,
    }
    return render(request, "admin/reviews/review.html", context)


@require_POST
def consult_view(request, case_id: int):
    case = _visible_case(request, case_id)
    if not can_schedule_consult(request.user):
        raise PermissionDenied
    form = ConsultForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"Not booked: {errors}")
        return HttpResponseRedirect(_review_url(case))
    data = form.cleaned_data
    try:
        consult_schedule(
            case=case,
            actor=request.user,
            starts_at=form.starts_at(),
            clinician=data["clinician"],
            place=data["place"],
            video_url=data["video_url"],
            duration_minutes=data["duration_minutes"],
            expected_version=data["version"],
        )
    except ServiceError as exc:
        messages.error(request, f"Not booked: {exc}")
    else:
        messages.success(request, f"Consult booked for {case.reference}; the patient is told.")
    return HttpResponseRedirect(_review_url(case))


admin.site.register_page("reviews/case/<int:case_id>/review/", review_view, name="reviews_case_review")
admin.site.register_page("reviews/case/<int:case_id>/consult/", consult_view, name="reviews_case_consult")
