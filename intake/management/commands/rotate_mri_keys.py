from django.core.management.base import BaseCommand

from intake import storage
from intake.models import MriFile


class Command(BaseCommand):
    help = "Re-encrypt every stored MRI file with the newest key in INTAKE_FILE_KEYS (put the new key first)."

    def handle(self, *args, **options):
        n = 0
        for name in MriFile.objects.values_list("stored_name", flat=True).iterator():
            storage.rotate_stored(name)
            n += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {n} file(s). The old key can now be removed."))
