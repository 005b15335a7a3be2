from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.services.retention import cases_purge_expired, draft_files_delete_expired


class Command(BaseCommand):
    help = (
        "Remove files and personal data of cases closed or without response for longer than "
        "INTAKE_RETENTION_DAYS, keeping an anonymous stub, and delete MRI files of drafts that ended "
        "without a request. Use --dry-run to see what would go."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run=False, **options):
        result = cases_purge_expired(dry_run=dry_run)
        drafts = draft_files_delete_expired(dry_run=dry_run)
        refs = result["candidates"]
        days = settings.INTAKE_RETENTION_DAYS
        if dry_run:
            self.stdout.write(f"{len(refs)} case(s) past {days} days would be purged:")
            for ref in refs:
                self.stdout.write(f"  {ref}")
            files = drafts["candidates"]
            self.stdout.write(f"{len(files)} MRI file(s) of drafts that ended without a request would be deleted:")
            for f in files:
                # No names: a patient's file name can carry their own name.
                uploaded = timezone.localtime(f.uploaded_at).isoformat(timespec="minutes")
                self.stdout.write(f"  file #{f.pk} ({f.file_type}, {f.size} bytes, uploaded {uploaded})")
        else:
            self.stdout.write(self.style.SUCCESS(f"Purged {result['purged']} case(s) past {days} days."))
            self.stdout.write(
                self.style.SUCCESS(f"Deleted {drafts['deleted']} MRI file(s) of drafts that ended without a request.")
            )
