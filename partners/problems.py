"""Errors as RFC 9457 problem details (application/problem+json).

Field errors are listed under ``errors`` as ``{"pointer": "#/field", "detail": "..."}``
(the RFC's own example). Messages are plain words; none repeats what was sent.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_TYPE = "https://spineclinic.example/problems/"
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "The request is not valid",
    401: "No valid API key",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    415: "Unsupported media type",
    422: "The request could not be processed",
    429: "Too many requests",
}
SLUGS = {
    400: "invalid-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    410: "gone",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "rate-limited",
}


class RefusedCallsThrottled(exceptions.Throttled):
    """Too many calls without a valid key from one address (partners.throttling)."""

    default_detail = "Too many requests without a valid API key from your address. Wait and try again."

    def __init__(self, wait=60):
        super().__init__(wait=wait, detail=self.default_detail)


class UrgentReferralLimit(exceptions.Throttled):
    """More urgent referrals from one key in an hour than INTAKE_API_URGENT_PER_HOUR."""

    def __init__(self, *, limit: int, wait: int):
        super().__init__(
            wait=wait,
            detail=f"This API key sent {limit} urgent referrals in the last hour, the most it may send. "
            "The clinic's staff have been told. For an emergency, send the patient to urgent care or call "
            "the clinic; otherwise send the referral again after Retry-After.",
        )


class CaseWithdrawn(exceptions.APIException):
    """The patient withdrew the request: nothing about it is exported any more."""

    status_code = status.HTTP_410_GONE
    default_detail = "The patient withdrew this request; the clinic no longer shares its record."
    default_code = "withdrawn"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body. Use a new key."
    default_code = "idempotency_conflict"


def _flatten(detail, pointer=""):
    if isinstance(detail, dict):
        for field, sub in detail.items():
            name = "" if field == "non_field_errors" else f"{pointer}/{field}"
            yield from _flatten(sub, name)
    elif isinstance(detail, list):
        for i, sub in enumerate(detail):
            if isinstance(sub, (dict, list)) and not isinstance(sub, str):
                yield from _flatten(sub, f"{pointer}/{i}" if isinstance(sub, dict) else pointer)
            else:
                yield {"pointer": f"#{pointer}", "detail": str(sub)}
    else:
        yield {"pointer": f"#{pointer}", "detail": str(detail)}


def problem(status_code: int, detail: str, *, errors=None, headers=None) -> Response:
    body = {
        "type": PROBLEM_TYPE + SLUGS.get(status_code, "error"),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=CONTENT_TYPE)


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # The model's own checks (full_clean in the submission service) after the serializer's.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("There is no referral or case with this reference for your key.")
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handling (and its error report) applies
    headers = {k: v for k, v in response.headers.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail))
        return problem(response.status_code, "Some fields need attention; see errors.", errors=errors, headers=headers)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(detail, (list, dict)):
        return problem(
            response.status_code, "The request is not valid.", errors=list(_flatten(detail)), headers=headers
        )
    if type(exc) is exceptions.Throttled:  # DRF's per-key throttle; subclasses carry their own words
        detail = "Too many requests for this API key. Wait and try again."
    return problem(response.status_code, str(detail), headers=headers)
