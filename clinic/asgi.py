import os

from django.core.asgi import get_asgi_application

# Production unless told otherwise (cookiecutter-django's habit): without its
# environment it refuses to start and names what is missing. `make run` and
# manage.py choose clinic.settings.local.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.production")
application = get_asgi_application()
