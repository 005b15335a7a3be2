from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create demo queues, routing rules, staff groups and users, and the starter content. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--no-staff", action="store_true", help="Skip the demo staff accounts (production).")

    def handle(self, *args, no_staff=False, **options):
        from intake import seed
        from partners.seed import seed_partner_permissions

        with transaction.atomic():
            seed.seed_groups()
            queues = seed.seed_queues_and_rules()
            seed_partner_permissions()  # supervisors manage partners, keys and webhooks
            if not no_staff:
                seed.seed_demo_staff(queues)
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
