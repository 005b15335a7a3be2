from django.core.management.base import BaseCommand, CommandError

from intake import storage
from intake.models import MriFile
from intake.services.files import mri_file_integrity_alert


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored MRI file with the newest key in INTAKE_FILE_KEYS (put the new key first), "
        "in the current file format, through the shared MRI storage. Each file is checked as it is rewritten; "
        "one that fails is left as it was, reported and alerted."
    )

    def handle(self, *args, **options):
        n = 0
        failed = []
        files = MriFile.objects.only("pk", "stored_name", "sha256", "case_id").order_by("pk")
        for f in files.iterator(chunk_size=500):
            try:
                storage.rotate_stored(f.stored_name, sha256=f.sha256)
            except storage.FileIntegrityError as exc:
                mri_file_integrity_alert(mri_file=f, error=exc)
                failed.append(f"#{f.pk} ({exc.reason})")
                continue
            except storage.StorageUnavailable as exc:
                raise CommandError(f"Stopped after {n} file(s): {exc}. Run it again; finished files stay done.")
            n += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {n} file(s)."))
        if failed:
            raise CommandError(
                f"{len(failed)} file(s) failed their integrity check and were left as they were: {', '.join(failed)}. "
                "Keep the old key until they are dealt with."
            )
        self.stdout.write("The old key can now be removed.")
