"""Included under the status page's URL (intake.urls): /mri-review/status/<token>/..."""

from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("result.pdf", views.letter_pdf, name="letter_pdf"),
    path("summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("consult.ics", views.consult_ics, name="consult_ics"),
]
