"""Staff imaging views, inside the admin (``admin.site.admin_view``).

Every view finds the case through the case admin's own ``get_object`` (its
queryset is ``visible_to(user)``): a case outside the user's queues is a 404,
exactly as on the case page. Pixels need ``intake.view_mrifile`` too. Each
series (or inline file) opened is recorded once: the manifest request writes
the audit entry and marks the series opened in the session; slice requests
write nothing (one entry per series, not per slice), and a slice asked for
without its manifest records the opening then. The viewer page opens its first
series itself: it carries that series' manifest (a JSON data block, not a
script) and records the opening, so the page's first request is slice 0.
"""

import logging
import math

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake import storage
from intake.models import MriFile, ReviewRequest
from intake.services.errors import ServiceError
from intake.uploads import UploadRejected

from . import cage, dicom, render, selectors, services
from .forms import AttachForm, DetachForm
from .models import ImagingInstance, ImagingStudy, IndexedFile

log = logging.getLogger(__name__)
SESSION_KEY = "imaging_opened"
NO_STORE = "private, no-store"


def _case(request, case_id) -> ReviewRequest:
    model_admin = admin.site.get_model_admin(ReviewRequest)
    case = model_admin.get_object(request, str(case_id))
    if case is None or not model_admin.has_view_permission(request, case):
        raise Http404("No such case in your queues.")
    return case


def _require_files(request):
    if not request.user.has_perm("intake.view_mrifile"):
        raise PermissionDenied


def _can_triage(request) -> bool:
    return request.user.has_perm("intake.change_reviewrequest")


def _no_store(response):
    response["Cache-Control"] = NO_STORE
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _opened(request, key: str) -> bool:
    """True the first time ``key`` is opened on this page load (see module doc)."""
    opened = request.session.get(SESSION_KEY, [])
    return key in opened


def _mark_opened(request, key: str) -> None:
    opened = [k for k in request.session.get(SESSION_KEY, []) if k != key][-200:]
    request.session[SESSION_KEY] = [*opened, key]


def _unavailable(text: str, status: int):
    return _no_store(JsonResponse({"error": text}, status=status))


def _cannot_show(exc: cage.DecoderFailed):
    """The cage refused, or its decoder died, ran out of memory or time: this web process is fine."""
    return _unavailable(_("Cannot be shown: %(reason)s.") % {"reason": exc}, 422)


# --- The page ------------------------------------------------------------------------------
def viewer_context(request, case) -> dict:
    """What the viewer needs (templates/imaging/_viewer.html and the series and
    report lists), for the viewer page and for the structured review beside it
    (reviews.admin). The first series is opened with the page and recorded."""
    # A decoder starts importing now, while the page is built, for slice 0.
    cage.warm()
    try:
        services.case_index_pending(case=case)
    except storage.StorageUnavailable:
        messages.warning(request, _("The file storage is not answering; some files are not shown yet."))
    studies = selectors.case_studies(case)
    files = list(case.files.all().select_related("imaging_index"))
    inline = [f for f in files if f.file_type in (MriFile.FileType.PDF, MriFile.FileType.JPEG, MriFile.FileType.PNG)]
    unreadable = [
        f for f in files if getattr(getattr(f, "imaging_index", None), "state", None) == IndexedFile.State.FAILED
    ]
    first = next((s for st in studies for s in st.series.all() if s.decodable and s.slice_count), None)
    initial = None
    if first is not None:
        # The first series is opened with the page (audited here, as its manifest
        # request would): the page asks for slice 0 at once, no manifest round trip.
        # If it cannot be read now, the page asks for the manifest and shows why.
        first.study.case = case
        initial, _error = _series_manifest(request, case, first)
    return {
        "studies": studies,
        "inline_files": inline,
        "unreadable": unreadable,
        "flags": selectors.case_imaging_flags(case),
        "first_series": first,
        "initial_manifest": initial,
        "initial_slice": _first_slice_url(initial) if initial else "",
        "mri_age_months": selectors.mri_age_months(case),
    }


def viewer_view(request, case_id):
    case = _case(request, case_id)
    _require_files(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Images for %(reference)s") % {"reference": case.reference},
        "case": case,
        **viewer_context(request, case),
        "can_triage": _can_triage(request),
        "attach_form": AttachForm(),
        "detach_form": DetachForm(),
    }
    return _no_store(TemplateResponse(request, "imaging/viewer.html", context))


def _first_slice_url(manifest: dict) -> str:
    """Slice 0 in the series' own window, exactly the URL viewer.js asks for first
    (``urlFor``: Math.round of the centre and of the width, a width of 0 taken as 1),
    so the page's preload link is the request the script then uses."""
    window = manifest["window"]
    center, width = window["center"], window["width"] or 1
    return f"{manifest['slice_base']}/0.png?wc={math.floor(center + 0.5)}&ww={math.floor(width + 0.5)}"


# --- A series: manifest, then slices ----------------------------------------------------------
def series_manifest_view(request, case_id, series_id):
    case = _case(request, case_id)
    _require_files(request)
    series = get_object_or_404(selectors_series_qs(case), pk=series_id)
    body, error = _series_manifest(request, case, series)
    return error or _no_store(JsonResponse(body))


def _series_manifest(request, case, series):
    """(the manifest, None), the opening recorded; or (None, the error response)."""
    if series.problem:
        return None, _unavailable(series.problem, 422)
    instances = list(series.instances.order_by("index").values("index", "position", "instance_number"))
    center, width = series.window_center, series.window_width
    if center is None or not width:
        try:
            middle = series.instances.select_related("mri_file").get(index=len(instances) // 2)
            center, width = dicom.auto_window(services.slice_pixels(middle, actor=request.user))
        except (dicom.DecodeError, ImagingInstance.DoesNotExist):
            center, width = 0.0, 0.0
        except storage.FileIntegrityError:
            return None, _unavailable(_("This file failed its integrity check and is not shown."), 500)
        except storage.StorageUnavailable:
            return None, _unavailable(_("The file storage is not answering. Try again in a minute."), 503)
    services.imaging_series_open(series=series, user=request.user, request=request)
    _mark_opened(request, f"s{series.pk}")
    base = reverse("admin:imaging_slice", args=[case.pk, series.pk, 0]).rsplit("/0.png", 1)[0]
    return {
        "series": series.pk,
        "label": f"{series.get_plane_display()} · {series.description or _('series')} #{series.number or ''}",
        "rows": series.rows,
        "columns": series.columns,
        "window": {"center": center, "width": width},
        "slices": [{"n": i["index"] + 1, "position": i["position"]} for i in instances],
        "slice_base": base,
    }, None


def selectors_series_qs(case):
    from .models import ImagingSeries

    return ImagingSeries.objects.filter(study__case=case).select_related("study")


def _number(value, default):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if abs(number) < 1e7 else default


def slice_view(request, case_id, series_id, index):
    # The hot path (one request per slice scrolled): the case admin's own rule
    # (ReviewRequest.objects.visible_to, its get_queryset) in one query with
    # the slice, instead of loading the case, the series and the slice apart.
    if not request.user.has_perm("intake.view_reviewrequest"):
        raise Http404("No such case in your queues.")
    _require_files(request)
    visible = ReviewRequest.objects.visible_to(request.user).filter(pk=case_id)
    instance = get_object_or_404(
        ImagingInstance.objects.select_related("mri_file__imaging_index", "series__study__case"),
        series_id=series_id,
        series__study__case__in=visible,
        index=index,
    )
    series = instance.series
    if not _opened(request, f"s{series.pk}"):
        services.imaging_series_open(series=series, user=request.user, request=request)
        _mark_opened(request, f"s{series.pk}")
    try:
        frame = services.slice_pixels(instance, actor=request.user)
    except cage.DecoderFailed as exc:
        return _cannot_show(exc)
    except dicom.DecodeError as exc:
        return _unavailable(str(exc), 422)
    except storage.FileIntegrityError:
        return _unavailable(_("This file failed its integrity check and is not shown."), 500)
    except storage.StorageUnavailable:
        return _unavailable(_("The file storage is not answering. Try again in a minute."), 503)
    center = _number(request.GET.get("wc"), series.window_center)
    width = _number(request.GET.get("ww"), series.window_width)
    if request.GET.get("auto") or center is None or not width:
        center, width = dicom.auto_window(frame)
    return _no_store(
        HttpResponse(render.slice_png(frame, center, width, invert=series.inverted), content_type="image/png")
    )


# --- Reports and pictures inline ------------------------------------------------------------------
def file_manifest_view(request, case_id, file_id):
    case = _case(request, case_id)
    _require_files(request)
    mri_file = get_object_or_404(MriFile, pk=file_id, case=case)
    if mri_file.file_type not in (MriFile.FileType.PDF, MriFile.FileType.JPEG, MriFile.FileType.PNG):
        raise Http404
    try:
        pages = 1
        if mri_file.file_type == MriFile.FileType.PDF:
            pages = cage.pdf_page_count(services.file_plaintext(mri_file, actor=request.user))
    except cage.DecoderFailed as exc:
        return _cannot_show(exc)
    except storage.FileIntegrityError:
        return _unavailable(_("This file failed its integrity check and is not shown."), 500)
    except storage.StorageUnavailable:
        return _unavailable(_("The file storage is not answering. Try again in a minute."), 503)
    except Exception:
        return _unavailable(_("This report cannot be drawn; download it instead."), 422)
    services.imaging_file_view(mri_file=mri_file, user=request.user, request=request)
    _mark_opened(request, f"f{mri_file.pk}")
    base = reverse("admin:imaging_file_page", args=[case.pk, mri_file.pk, 1]).rsplit("/1.png", 1)[0]
    return _no_store(JsonResponse({"file": mri_file.pk, "pages": pages, "page_base": base}))


def file_page_view(request, case_id, file_id, page):
    case = _case(request, case_id)
    _require_files(request)
    mri_file = get_object_or_404(MriFile, pk=file_id, case=case)
    if not _opened(request, f"f{mri_file.pk}"):
        services.imaging_file_view(mri_file=mri_file, user=request.user, request=request)
        _mark_opened(request, f"f{mri_file.pk}")
    try:
        data = services.file_plaintext(mri_file, actor=request.user)
        if mri_file.file_type == MriFile.FileType.PDF:
            body = cage.pdf_page_png(data, page - 1)
        elif mri_file.file_type in (MriFile.FileType.JPEG, MriFile.FileType.PNG) and page == 1:
            body = cage.image_png(data)
        else:
            raise Http404
    except cage.DecoderFailed as exc:
        return _cannot_show(exc)
    except (IndexError, ValueError):
        raise Http404 from None
    except storage.FileIntegrityError:
        return _unavailable(_("This file failed its integrity check and is not shown."), 500)
    except storage.StorageUnavailable:
        return _unavailable(_("The file storage is not answering. Try again in a minute."), 503)
    return _no_store(HttpResponse(body, content_type="image/png"))


# --- Staff actions: confirm, detach, attach -------------------------------------------------------------
def _back(case):
    return HttpResponseRedirect(reverse("admin:imaging_viewer", args=[case.pk]))


@require_POST
def study_confirm_view(request, case_id, study_id):
    case = _case(request, case_id)
    if not _can_triage(request):
        raise PermissionDenied
    study = get_object_or_404(ImagingStudy, pk=study_id, case=case)
    services.imaging_study_confirm(study_id=study.pk, actor=request.user)
    messages.success(request, _("Recorded: the images were checked and are this patient's."))
    return _back(case)


@require_POST
def study_detach_view(request, case_id, study_id):
    case = _case(request, case_id)
    if not _can_triage(request):
        raise PermissionDenied
    study = get_object_or_404(ImagingStudy, pk=study_id, case=case)
    form = DetachForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm the images are not this patient's. Nothing was changed."))
        return _back(case)
    ids = services.imaging_study_detach(study_id=study.pk, actor=request.user)
    messages.success(request, _("Detached %(n)s file(s) from the case.") % {"n": len(ids)})
    return _back(case)


@require_POST
def attach_view(request, case_id):
    case = _case(request, case_id)
    if not _can_triage(request):
        raise PermissionDenied
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return _back(case)
    try:
        services.imaging_attach(
            case_id=case.pk, uploads=form.cleaned_data["files"], actor=request.user, reason=form.cleaned_data["reason"]
        )
    except UploadRejected as exc:
        messages.error(request, str(exc))
    except storage.StorageUnavailable:
        messages.error(request, _("The file storage is not answering. Nothing more was attached; try again."))
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Attached."))
    return _back(case)
