"""clinic.settings.production, unchanged, plus two bench-only workarounds.

Every bench and load-test process of the clinic runs with this module, so what
is measured is the production configuration. The differences, reported
(bench/README.md, "Known differences"):

1. STATIC_ROOT points into bench/.tmp so the bench's own `collectstatic`
   (the manifest storage needs one when DEBUG is off) never touches var/.
2. INTAKE_DEMO_STAFF_ALLOWED: the load test seeds the demo staff in its
   private, throw-away database, so routing assigns and notifies staff.

Emails go to files through the production settings' own EMAIL_URL
(``filemail:///absolute/path``, bench/common.py), which base.py reads as the
absolute path it names.
"""

from clinic.settings.production import *  # noqa: F403
from clinic.settings.production import STATIC_ROOT, env

STATIC_ROOT = env("BENCH_STATIC_ROOT", default=str(STATIC_ROOT))
INTAKE_DEMO_STAFF_ALLOWED = True
