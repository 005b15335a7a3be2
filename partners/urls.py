from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "partners"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("referrals/", views.ReferralsView.as_view(), name="referrals"),
    path("referrals/<str:reference>/", views.ReferralDetailView.as_view(), name="referral"),
    path("cases/<str:reference>/fhir", views.CaseFhirView.as_view(), name="case-fhir"),
    path("fhir/Questionnaire/mri-review", views.QuestionnaireView.as_view(), name="questionnaire"),
    path("staff/cases/<int:case_id>/fhir", views.staff_case_fhir, name="staff-case-fhir"),
    # Last: anything else under /api/v1/ is a problem+json 404, not an HTML page.
    re_path(r"^.*$", views.api_not_found),
]
