import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

# Production unless told otherwise (cookiecutter-django's habit): without its
# environment it refuses to start and names what is missing. `make run` and
# manage.py choose clinic.settings.local.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.production")
application = get_wsgi_application()

# Import the URLconf, and with it every view module it names, now, while the
# worker starts, not in the first request it serves: gunicorn replaces each
# worker after max_requests, and a new worker's first patient otherwise waited
# for it (0.6 s here on a quiet machine; 0.7-3 s measured under load by the
# imaging bench). The resolver keeps what it loaded.
get_resolver().url_patterns  # noqa: B018
