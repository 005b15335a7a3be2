"""Imaging pages inside the admin, at /admin/imaging/case/<case id>/...

AdminSite has no hook for extra pages besides get_urls (see intake/admin);
these are prepended so they match before the site's catch-all.
"""

from django.contrib import admin
from django.urls import path

from . import views


def _with_imaging(get_urls):
    def urls():
        wrap = admin.site.admin_view
        return [
            path("imaging/case/<int:case_id>/viewer/", wrap(views.viewer_view), name="imaging_viewer"),
            path(
                "imaging/case/<int:case_id>/series/<int:series_id>/",
                wrap(views.series_manifest_view),
                name="imaging_series",
            ),
            path(
                "imaging/case/<int:case_id>/series/<int:series_id>/<int:index>.png",
                wrap(views.slice_view),
                name="imaging_slice",
            ),
            path("imaging/case/<int:case_id>/file/<int:file_id>/", wrap(views.file_manifest_view), name="imaging_file"),
            path(
                "imaging/case/<int:case_id>/file/<int:file_id>/<int:page>.png",
                wrap(views.file_page_view),
                name="imaging_file_page",
            ),
            path("imaging/case/<int:case_id>/attach/", wrap(views.attach_view), name="imaging_attach"),
            path(
                "imaging/case/<int:case_id>/study/<int:study_id>/confirm/",
                wrap(views.study_confirm_view),
                name="imaging_study_confirm",
            ),
            path(
                "imaging/case/<int:case_id>/study/<int:study_id>/detach/",
                wrap(views.study_detach_view),
                name="imaging_study_detach",
            ),
            *get_urls(),
        ]

    return urls


if not getattr(admin.site.get_urls, "with_imaging", False):
    admin.site.get_urls = _with_imaging(admin.site.get_urls)
    admin.site.get_urls.with_imaging = True
