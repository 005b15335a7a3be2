from django.urls import path
from django.views.generic import TemplateView

from . import views

urlpatterns = [
    path("form/", views.lead_form, name="form"),
    path("thanks/", TemplateView.as_view(template_name="baseline/thanks.html"), name="thanks"),
    path("static-page/", TemplateView.as_view(template_name="baseline/static_page.html"), name="static_page"),
]
