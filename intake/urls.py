from django.urls import include, path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.step, name="start"),
    path("step/<slug:name>/", views.step, name="step"),
    path("urgent/", views.urgent, name="urgent"),
    path("submitted/", views.submitted, name="submitted"),
    path("thanks/", views.thanks, name="thanks"),
    path("upload/", views.upload, name="upload"),
    path("upload/<int:file_id>/remove/", views.upload_remove, name="upload_remove"),
    path("status/<str:token>/", views.status, name="status"),
    # The status page's actions (answer, upload, withdraw, contact): patientloop.
    path("status/<str:token>/", include("patientloop.urls")),
    # The result letter and consult downloads (the reviews app), behind the same link.
    path("status/<str:token>/", include("reviews.urls")),
]
