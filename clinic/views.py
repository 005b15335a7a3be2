import logging
import sys

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from clinic.dbretry import is_db_blip, is_storage_full
from clinic.red_flags import EMERGENCY_FLAGS, RedFlag


@cache_control(max_age=300, public=True)
def home(request):
    return render(request, "clinic/home.html")


@cache_control(max_age=3600, public=True)
def privacy(request):
    return render(request, "clinic/privacy.html")


@cache_control(max_age=3600, public=True)
def urgent_advice(request):
    emergency = [f.label for f in RedFlag if f in EMERGENCY_FLAGS]
    same_day = [f.label for f in RedFlag if f not in EMERGENCY_FLAGS]
    return render(request, "clinic/urgent_advice.html", {"emergency": emergency, "same_day": same_day})


log = logging.getLogger(__name__)


def server_error(request, template_name="500.html"):
    """Django's handler500, which tells our failures apart.

    A database blip or a full disk is temporary and nothing the patient sent
    is half-saved (one transaction per write; a resend of the final step finds
    the case it made), so the answer is 503 "nothing was lost, please try
    again", in JSON for the upload script. Anything else is a real 500.
    Rendered without a request context: the database may be what failed.
    """
    exc = sys.exc_info()[1]
    if is_db_blip(exc) or is_storage_full(exc):
        message = _("Nothing you sent was lost. Please try again in a minute.")
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(
                {"ok": False, "error": message, "retry": True}, status=503, headers={"Retry-After": "30"}
            )
        html = loader.render_to_string("503.html", {"message": message})
        response = HttpResponse(html, status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.render_to_string(template_name))
