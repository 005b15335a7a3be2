from django.urls import path

from . import views

app_name = "education"
urlpatterns = [
    path("", views.library, name="library"),
    path("stretches/<slug:slug>/", views.stretch, name="stretch"),
    path("conditions/<slug:slug>/", views.condition, name="condition"),
    path("routines/<slug:slug>/", views.routine, name="routine"),
    path("routines/<slug:slug>/guided/<int:number>/", views.routine_guided, name="routine_guided"),
    path("routines/<slug:slug>/guided/done/", views.routine_done, name="routine_done"),
    path("routines/<slug:slug>/print/", views.routine_print, name="routine_print"),
    # Staff previews of drafts: never cached, never indexed.
    path("preview/<str:kind>/<int:pk>/", views.preview, name="preview"),
    path("preview/routine/<int:pk>/guided/<int:number>/", views.preview_guided, name="preview_guided"),
]
