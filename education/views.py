"""Public stretching pages, and staff previews of drafts.

The public views read published content only, through the selectors. A
preview renders the very same templates for one item whether published or
not, for staff who may change that kind of content.
"""

import math

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache

from . import selectors
from .models import Condition, Routine, Stretch

# Public content is the same for everyone; a short shared cache keeps it cheap
# without holding an unpublished page up for long.
public_page = cache_control(max_age=300, public=True)

PREVIEW_MODELS = {"stretch": Stretch, "condition": Condition, "routine": Routine}


@public_page
def library(request):
    return render(
        request,
        "education/library.html",
        {
            "sections": selectors.library_sections(),
            "routines": selectors.routines_published(),
            "conditions": selectors.conditions_published(),
        },
    )


@public_page
def stretch(request, slug):
    return _stretch_page(request, get_object_or_404(Stretch.objects.published(), slug=slug))


@public_page
def condition(request, slug):
    return _condition_page(request, get_object_or_404(Condition.objects.published(), slug=slug))


@public_page
def routine(request, slug):
    return _routine_page(request, get_object_or_404(Routine.objects.published(), slug=slug))


@public_page
def routine_guided(request, slug, number):
    obj = get_object_or_404(Routine.objects.published(), slug=slug)
    return _guided_page(request, obj, number)


@public_page
def routine_print(request, slug):
    """The routine on one or two printed pages: pictures, holds, breathing, safety."""
    obj = get_object_or_404(Routine.objects.published(), slug=slug)
    context = {"routine": obj, "stretches": selectors.routine_stretches(obj)}
    return render(request, "education/routine_print.html", context)


@public_page
def routine_done(request, slug):
    obj = get_object_or_404(Routine.objects.published(), slug=slug)
    stretches = selectors.routine_stretches(obj)
    return render(
        request,
        "education/routine_done.html",
        {"routine": obj, "stretch_count": len(stretches), "back_url": _guided_url(obj, len(stretches), False)},
    )


# --- Previews -------------------------------------------------------------------


def _preview_allowed(request, kind: str):
    """Staff with the change permission for ``kind`` may preview; others may not.

    Anonymous visitors go to the staff sign-in; signed-in users without the
    permission get 403. When a second factor is required for the admin, it is
    required here too: a preview is part of the staff side.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if settings.INTAKE_REQUIRE_OTP and not (hasattr(user, "is_verified") and user.is_verified()):
        return redirect_to_login(request.get_full_path())
    if not (user.is_active and user.is_staff and user.has_perm(f"education.change_{kind}")):
        raise PermissionDenied
    return None


def _noindex(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def preview(request, kind, pk):
    if kind not in PREVIEW_MODELS:
        raise Http404
    denied = _preview_allowed(request, kind)
    if denied:
        return denied
    obj = get_object_or_404(PREVIEW_MODELS[kind], pk=pk)
    page = {"stretch": _stretch_page, "condition": _condition_page, "routine": _routine_page}[kind]
    return _noindex(page(request, obj, preview=True))


@never_cache
def preview_guided(request, pk, number):
    denied = _preview_allowed(request, "routine")
    if denied:
        return denied
    obj = get_object_or_404(Routine, pk=pk)
    return _noindex(_guided_page(request, obj, number, preview=True))


# --- Pages ----------------------------------------------------------------------


def _stretch_page(request, obj, preview=False):
    return render(
        request,
        "education/stretch_detail.html",
        {
            "stretch": obj,
            "item": obj,
            "routines": selectors.routines_for(obj, include_unpublished=preview),
            "conditions": selectors.conditions_for(obj, include_unpublished=preview),
            "preview": preview,
        },
    )


def _condition_page(request, obj, preview=False):
    return render(
        request,
        "education/condition_detail.html",
        {
            "condition": obj,
            "item": obj,
            "routines": selectors.routines_for(obj, include_unpublished=preview),
            "stretches": selectors.stretches_for_condition(obj, include_unpublished=preview),
            "preview": preview,
        },
    )


def _routine_page(request, obj, preview=False):
    stretches = selectors.routine_stretches(obj, include_unpublished=preview)
    return render(
        request,
        "education/routine_detail.html",
        {
            "routine": obj,
            "item": obj,
            "stretches": stretches,
            "conditions": selectors.conditions_for(obj, include_unpublished=preview),
            "start_url": _guided_url(obj, 1, preview) if stretches else None,
            "print_url": (
                reverse("education:routine_print", kwargs={"slug": obj.slug}) if stretches and not preview else None
            ),
            "minutes": math.ceil(sum(s.hold_seconds * s.holds for s in stretches) / 60),
            "preview": preview,
        },
    )


def _guided_url(obj, number, preview):
    if preview:
        return reverse("education:preview_guided", kwargs={"pk": obj.pk, "number": number})
    return reverse("education:routine_guided", kwargs={"slug": obj.slug, "number": number})


def _guided_page(request, obj, number, preview=False):
    """One stretch of the guided mode. Each stretch has its own URL, so the
    mode works without JavaScript and the back button does what people expect."""
    stretches = selectors.routine_stretches(obj, include_unpublished=preview)
    if not 1 <= number <= len(stretches):
        raise Http404
    current = stretches[number - 1]
    if number < len(stretches):
        next_url = _guided_url(obj, number + 1, preview)
    elif preview:
        next_url = obj.get_preview_url()
    else:
        next_url = reverse("education:routine_done", kwargs={"slug": obj.slug})
    if number > 1:
        previous_url = _guided_url(obj, number - 1, preview)
    else:
        previous_url = obj.get_preview_url() if preview else obj.get_absolute_url()
    return render(
        request,
        "education/routine_guided.html",
        {
            "routine": obj,
            "item": obj,
            "stretch": current,
            "number": number,
            "count": len(stretches),
            "is_last": number == len(stretches),
            "next_stretch": stretches[number] if number < len(stretches) else None,
            "next_url": next_url,
            "previous_url": previous_url,
            "routine_url": obj.get_preview_url() if preview else obj.get_absolute_url(),
            "preview": preview,
        },
    )
