from django.conf import settings
from django.core.management.base import BaseCommand

from intake.services.retention import cases_purge_expired


class Command(BaseCommand):
    help = (
        "Remove files and personal data of cases closed or without response for longer than "
        "INTAKE_RETENTION_DAYS, keeping an anonymous stub. Use --dry-run to see what would go."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run=False, **options):
        result = cases_purge_expired(dry_run=dry_run)
        refs = result["candidates"]
        days = settings.INTAKE_RETENTION_DAYS
        if dry_run:
            self.stdout.write(f"{len(refs)} case(s) past {days} days would be purged:")
            for ref in refs:
                self.stdout.write(f"  {ref}")
        else:
            self.stdout.write(self.style.SUCCESS(f"Purged {result['purged']} case(s) past {days} days."))
