"""seed_demo: the demo queues, rules, groups, content and, outside
production, demo staff with the published password (intake.seed.DEMO_PASSWORD).

Production settings set INTAKE_DEMO_STAFF_ALLOWED = False: there the command
refuses the staff part before it touches the database (issue 22: it had
created coordinator/clinician/supervisor with a password in the README), and
``--no-staff`` seeds the rest.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create demo queues, routing rules, staff groups and users, and the starter content. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--no-staff", action="store_true", help="Skip the demo staff accounts (production).")

    def handle(self, *args, no_staff=False, **options):
        if not no_staff and not settings.INTAKE_DEMO_STAFF_ALLOWED:
            raise CommandError(
                "seed_demo will not create the demo staff under these settings: their password is published. "
                "Run `manage.py seed_demo --no-staff`, and `manage.py createsuperuser` for real staff accounts."
            )
        from clinic.seed import seed_demo_profiles, seed_profile_permissions
        from intake import seed
        from partners.seed import seed_partner_permissions

        with transaction.atomic():
            seed.seed_groups()
            queues = seed.seed_queues_and_rules()
            seed_partner_permissions()  # supervisors manage partners, keys and webhooks
            seed_profile_permissions()  # supervisors keep staff profiles (names on letters)
            if not no_staff:
                seed.seed_demo_staff(queues)
                seed_demo_profiles()  # the demo clinician signs letters as "Dr Ana Ruiz, MD, spine surgeon"
            try:
                from education.seed import seed_content
            except ImportError:
                seed_content = None
            if seed_content is not None:
                seed_content()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if not no_staff:
            self.stdout.write(
                f"Staff sign-in at /admin/: coordinator, clinician or supervisor, password {seed.DEMO_PASSWORD}"
            )
