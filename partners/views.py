"""/api/v1/: referrals in, status and FHIR out. Views route; services write."""

import re

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.models import AuditEntry, audit_record
from intake.models import ReviewRequest

from . import fhir, letters, selectors, services
from .authentication import ApiKeyAuthentication, HasScope, PartnerClient
from .models import Scope
from .parsers import DepthLimitedJSONParser
from .problems import CONTENT_TYPE, PROBLEM_TYPE, CaseWithdrawn, RefusedCallsThrottled, problem
from .serializers import ReferralSerializer, ReferralStatusSerializer
from .throttling import ApiKeyRateThrottle, refused_call_limited

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,40}$")
REFERENCE = r"[A-Za-z0-9-]{1,12}"

ProblemSerializer = inline_serializer(
    "Problem",
    {
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "errors": serializers.ListField(
            child=inline_serializer(
                "FieldError", {"pointer": serializers.CharField(), "detail": serializers.CharField()}
            ),
            required=False,
        ),
    },
)


# Response headers, declared so a generated client knows them.
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    required=True,
    description="The referral's address, /api/v1/referrals/{reference}/.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=[200],
    required=True,
    description="'true': this is the answer to an earlier request with the same Idempotency-Key and body; "
    "no second case was made.",
)


def _problems(*codes):
    texts = {
        400: "The request is not valid (problem details, with field errors), or its JSON nests too deeply.",
        401: "No valid API key (missing, unknown, expired or revoked).",
        403: "The key lacks the scope this request needs.",
        404: "No such referral or case for this key.",
        410: "The patient withdrew this request: nothing about it is exported.",
        422: "The Idempotency-Key was used before with another body.",
        429: "Too many requests for this key (or without a valid key from your address); see Retry-After.",
    }
    return {(c, CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=texts[c]) for c in codes}


class PartnerAPIView(APIView):
    """Key authentication, a scope, per-key throttling and an audit entry per call."""

    authentication_classes = [ApiKeyAuthentication]
    parser_classes = [DepthLimitedJSONParser]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyRateThrottle]
    required_scope: str | None = None
    audit_name = ""

    def handle_exception(self, exc):
        # A call without a valid key counts against its address; past the limit
        # it is a 429 (audited in aggregate only, services.api_call_audit).
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)) and refused_call_limited(
            self.request
        ):
            exc = RefusedCallsThrottled(wait=60)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # patient data: no proxy or client cache keeps it
        user = getattr(request, "_user", None)
        services.api_call_audit(
            request=request._request,
            method=request.method,
            path_name=self.audit_name,
            status_code=response.status_code,
            client=user if isinstance(user, PartnerClient) else None,
            reference=getattr(self, "audit_reference", ""),
        )
        return response

    @property
    def partner(self):
        return self.request.user.partner


class ReferralsView(PartnerAPIView):
    audit_name = "referrals"

    def get_required_scope(self):
        return Scope.REFERRALS_WRITE if self.request.method == "POST" else Scope.REFERRALS_READ

    @property
    def required_scope(self):
        return self.get_required_scope()

    @extend_schema(
        operation_id="referrals_create",
        summary="Send a referral",
        request=ReferralSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                pattern=IDEMPOTENCY_KEY.pattern,
                description="Up to 40 letters, digits or . _ : -. Sending the same body again with the same key "
                "returns the first referral (200) instead of making a second case.",
            ),
            LOCATION,
            IDEMPOTENT_REPLAYED,
            RETRY_AFTER,
        ],
        responses={
            201: ReferralStatusSerializer,
            200: OpenApiResponse(ReferralStatusSerializer, description="A retry: the first referral, unchanged."),
            **_problems(400, 401, 403, 422, 429),
        },
    )
    def post(self, request):
        idem = request.headers.get("Idempotency-Key", "")
        if idem and not IDEMPOTENCY_KEY.match(idem):
            return problem(
                400,
                "The Idempotency-Key header must be 1 to 40 letters, digits or . _ : -",
                errors=[{"pointer": "#/headers/Idempotency-Key", "detail": "Not a valid key."}],
            )
        serializer = ReferralSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.referral_create(
            key=request.auth,
            answers=serializer.answers(),
            attested_by=serializer.validated_data["attested_by"],
            body_hash=services.request_hash(request.data),
            idempotency_key=idem,
            ip=getattr(request._request, "client_ip", None),
            user_agent=request.headers.get("User-Agent", ""),
        )
        self.audit_reference = result.referral.case.reference
        body = ReferralStatusSerializer(selectors.referral_status(result.referral)).data
        headers = {"Location": f"/api/v1/referrals/{result.referral.case.reference}/"}
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
            return Response(body, status=status.HTTP_200_OK, headers=headers)
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        operation_id="referrals_list",
        summary="Your referrals, newest first",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("offset", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False),
            RETRY_AFTER,
        ],
        responses={
            200: inline_serializer(
                "ReferralPage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "results": ReferralStatusSerializer(many=True),
                },
            ),
            **_problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        paginator = LimitOffsetPagination()
        paginator.default_limit, paginator.max_limit = 50, 100
        page = paginator.paginate_queryset(selectors.referrals_of(self.partner), request, view=self)
        data = [ReferralStatusSerializer(selectors.referral_status(r)).data for r in page]
        return paginator.get_paginated_response(data)


class ReferralDetailView(PartnerAPIView):
    audit_name = "referral"
    required_scope = Scope.REFERRALS_READ

    @extend_schema(
        operation_id="referrals_retrieve",
        summary="A referral's stage, in the patient's plain words",
        parameters=[RETRY_AFTER],
        responses={200: ReferralStatusSerializer, **_problems(401, 403, 404, 429)},
    )
    def get(self, request, reference):
        referral = selectors.referral_for(partner=self.partner, reference=reference)
        if referral is None:
            raise Http404  # another partner's referral looks exactly like none at all
        self.audit_reference = referral.case.reference
        return Response(ReferralStatusSerializer(selectors.referral_status(referral)).data)


class CaseFhirView(PartnerAPIView):
    audit_name = "case-fhir"
    required_scope = Scope.CASES_EXPORT

    @extend_schema(
        operation_id="cases_fhir",
        summary="A case as a FHIR R4 Bundle",
        parameters=[RETRY_AFTER],
        responses={
            (200, "application/fhir+json"): OpenApiResponse(OpenApiTypes.OBJECT, description="A Bundle (collection)."),
            **_problems(401, 403, 404, 410, 429),
        },
    )
    def get(self, request, reference):
        case = selectors.case_for_export(partner=self.partner, reference=reference)
        if case is None:
            raise Http404
        self.audit_reference = case.reference
        if fhir.case_withdrawn(case):
            raise CaseWithdrawn()
        return Response(_bundle(case), content_type="application/fhir+json")


class QuestionnaireView(APIView):
    """The request form as a FHIR Questionnaire: public, no patient data."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="fhir_questionnaire",
        summary="The Questionnaire the QuestionnaireResponse answers",
        auth=[],
        responses={(200, "application/fhir+json"): OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    def get(self, request):
        return Response(fhir.questionnaire(), content_type="application/fhir+json")


def _bundle(case: ReviewRequest) -> dict:
    from imaging.selectors import case_studies

    letter, report = _documents(case)
    return fhir.case_bundle(case, studies=case_studies(case), letter=letter, report=report)


def _documents(case: ReviewRequest):
    """((date, letter PDF), (review version, summary PDF)) of the result the
    patient can read now, or (None, None)."""
    try:
        from reviews.documents import letter_pdf, summary_pdf
        from reviews.selectors import letter_for_patient
    except ImportError:  # a checkout without the reviews app's letter: the Bundle goes without it
        return None, None
    version = letter_for_patient(case)
    if version is None:
        return None, None
    # Rendered once per review version and kept encrypted (partners.letters).
    letter = letters.fhir_letter_pdf(case=case, version=version, render=letter_pdf)
    summary = letters.fhir_letter_pdf(case=case, version=version, render=summary_pdf, kind="summary")
    return (version.created_at, letter), (version, summary)


def api_not_found(request, *args, **kwargs):
    from django.urls import Resolver404, resolve

    detail = "There is nothing at this address. The API's paths are in /api/v1/schema/."
    if not request.path.endswith("/"):
        try:
            if resolve(request.path + "/").func is not api_not_found:
                detail = f"Add a slash at the end: {request.path}/"
        except Resolver404:
            pass
    body = {"type": PROBLEM_TYPE + "not-found", "title": "Not found", "status": 404, "detail": detail}
    return JsonResponse(body, status=404, content_type=CONTENT_TYPE)


def staff_case_fhir(request, case_id: int):
    """The case page's "FHIR export" button: staff who may export cases, for a
    case they may see. Audited like the API's export.

    Behind the admin site's own gate (``admin_view``: signed in, staff, and the
    second factor when INTAKE_REQUIRE_OTP, clinic.admin_site), as every other
    staff page is: a whole case leaves the clinic here."""
    return admin.site.admin_view(_staff_case_fhir)(request, case_id=case_id)


def _staff_case_fhir(request, case_id: int):
    if not request.user.has_perm("intake.export_cases"):
        raise PermissionDenied
    case = get_object_or_404(ReviewRequest.objects.visible_to(request.user), pk=case_id, purged_at__isnull=True)
    bundle = _bundle(case)
    audit_record(
        action=AuditEntry.Action.EXPORT,
        summary="Exported a case as a FHIR Bundle from the case page",
        request=request,
        object_type="reviewrequest",
        object_ref=case.reference,
    )
    response = JsonResponse(bundle, content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="{case.reference}-fhir.json"'
    response["Cache-Control"] = "no-store"
    return response
