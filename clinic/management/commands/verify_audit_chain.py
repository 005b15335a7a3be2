from django.core.management.base import BaseCommand, CommandError

from clinic.models import verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; fails if any entry was altered or removed."

    def handle(self, *args, **options):
        ok, checked, problem = verify_chain()
        if not ok:
            raise CommandError(f"Audit chain broken after {checked} entries: {problem}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries."))
