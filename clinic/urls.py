from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.http import HttpResponseRedirect
from django.templatetags.static import static as static_url
from django.urls import include, path

from clinic import views
from education.sitemaps import SITEMAPS

admin.site.site_header = f"{settings.INTAKE_CLINIC_NAME} staff"
admin.site.site_title = f"{settings.INTAKE_CLINIC_NAME} staff"
admin.site.index_title = "Triage"

# Database blips and a full disk answer 503 "nothing was lost" (clinic.dbretry).
handler500 = "clinic.views.server_error"


def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links; send them to the
    static icon (its hashed name in production) rather than a 404 in every log."""
    return HttpResponseRedirect(static_url("favicon.ico"))


urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("urgent-symptoms/", views.urgent_advice, name="urgent_advice"),
    path("mri-review/", include("intake.urls")),
    path("stretching/", include("education.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="django.contrib.sitemaps.views.sitemap"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("partners.urls")),
    path("favicon.ico", favicon),
    # Django's set_language (POST): the language switcher in base.html.
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.DEBUG:
    # Stretch illustrations in development; production's web server serves MEDIA_ROOT.
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
