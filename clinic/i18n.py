"""The patient's language, without a prefix in the URL.

A page's address is the same in English and Spanish, so links shared between
patients, printed on letters or sent in emails keep working whatever language
the reader chose. The language comes from, in order:

1. ``?lang=es`` on the address (only for that request): what the ``hreflang``
   alternates of each public page point at, so search engines can index both;
2. the switcher's cookie (``django_language``, set by Django's ``set_language``);
3. the browser's Accept-Language;
4. English.

Pages about one case (everything under a patient's status link: the status
page, the letter and its PDF, the patient's actions) are the exception: they
speak the case's language whatever the cookie or the browser says, and follow
the switcher only when the patient uses it on them. The request app owns that
rule (intake.status_links.case_page_language), applied by its middleware
right after this one.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request):
        lang = request.GET.get("lang")
        if lang in LANGUAGE_CODES:
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
            return
        super().process_request(request)

    def process_response(self, request, response):
        response = super().process_response(request, response)
        # Django varies on Accept-Language only; the switcher's cookie changes
        # the page too, so a browser (or a shared cache) must not hand back a
        # page cached in the other language after the patient switches.
        patch_vary_headers(response, ("Cookie",))
        return response


def alternates(request) -> list[tuple[str, str]]:
    """(language, absolute address) for each language of the current page."""
    base = f"{request.scheme}://{request.get_host()}{request.path}"
    return [(code, f"{base}?lang={code}") for code in sorted(LANGUAGE_CODES)]
