"""clinic.settings.production, unchanged, plus three bench-only workarounds.

Every bench and load-test process of the clinic runs with this module, so what
is measured is the production configuration. The two differences, both
reported (bench/README.md, "Known differences"):

1. EMAIL_URL=filemail:///path is mapped by clinic/settings/base.py onto
   MAILERS without the ``file_path`` option, so Django 6.1 raises
   InvalidMailer on the first email. Here the file backend gets its path
   (BENCH_MAIL_DIR), so the load test can count the emails sent.
2. STATIC_ROOT points into bench/.tmp so the bench's own `collectstatic`
   (the manifest storage needs one when DEBUG is off) never touches var/.
3. INTAKE_DEMO_STAFF_ALLOWED: the load test seeds the demo staff in its
   private, throw-away database, so routing assigns and notifies staff.
"""

from clinic.settings.production import *  # noqa: F403
from clinic.settings.production import STATIC_ROOT, env

_mail_dir = env("BENCH_MAIL_DIR", default="")
if _mail_dir:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": _mail_dir},
        }
    }
STATIC_ROOT = env("BENCH_STATIC_ROOT", default=str(STATIC_ROOT))
INTAKE_DEMO_STAFF_ALLOWED = True
