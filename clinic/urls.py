from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from clinic import views
from education.sitemaps import SITEMAPS

admin.site.site_header = f"{settings.INTAKE_CLINIC_NAME}: staff"
admin.site.site_title = "Clinic staff"
admin.site.index_title = "Triage"

# Database blips and a full disk answer 503 "nothing was lost" (clinic.dbretry).
handler500 = "clinic.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("urgent-symptoms/", views.urgent_advice, name="urgent_advice"),
    path("mri-review/", include("intake.urls")),
    path("stretching/", include("education.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="django.contrib.sitemaps.views.sitemap"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Stretch illustrations in development; production's web server serves MEDIA_ROOT.
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
