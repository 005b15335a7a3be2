from django.core.management.base import BaseCommand, CommandError

from clinic.audit_anchors import verify_anchors
from clinic.models import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit trail: the keyed hash chain (no entry altered or removed in the middle) and every "
        "exported head hash (no entry removed from the end, none rewritten); fails on either."
    )

    def handle(self, *args, **options):
        ok, checked, problem = verify_chain()
        if not ok:
            raise CommandError(f"Audit chain broken after {checked} entries: {problem}")
        anchors = verify_anchors()
        if not anchors.ok:
            raise CommandError(f"Audit chain does not match its exported head hashes: {anchors.problem}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries."))
        if anchors.checked:
            self.stdout.write(f"Exported head hashes agree: {anchors.checked} checked, newest {anchors.newest}.")
        elif checked:
            self.stdout.write(
                self.style.WARNING(
                    "No head hash exported yet: removing the newest entries would not be detected. "
                    "Is Celery beat running (clinic.tasks.export_audit_head)?"
                )
            )
