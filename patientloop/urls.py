"""Included under intake's status link: /mri-review/status/<token>/... ."""

from django.urls import path

from . import views

app_name = "patientloop"

urlpatterns = [
    path("answer/<int:request_id>/", views.answer, name="answer"),
    path("upload/", views.upload, name="upload"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("contact/", views.contact, name="contact"),
]
