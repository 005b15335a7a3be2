"""Red-team finding 9: the audit chain was plain SHA-256 with no key, so with
database access the last rows could be deleted and every row rewritten, and
verify_audit_chain still said "intact"."""

import hashlib
import json
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from clinic.audit_anchors import audit_head_export, verify_anchors
from clinic.models import AuditEntry, audit_record
from clinic.tasks import export_audit_head
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _sql(sql, params=()):
    """What an intruder with database access does, bypassing the app (and, on
    PostgreSQL, the append-only trigger)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")


def _trail(n=6):
    actor = UserFactory()
    for i in range(n):
        audit_record(action="download_file", summary=f"Opened MRI file #{i} (pdf)", actor=actor, object_ref=f"MR-T{i}")


def _unkeyed_hash(entry: AuditEntry) -> str:
    """The hash an intruder can compute without the key: SHA-256 over the row."""
    return hashlib.sha256(entry.payload().encode()).hexdigest()


def _rewrite_all_unkeyed(summary: str):
    """Rewrite every download_file row and recompute the whole chain as the
    old, unkeyed scheme did (the red team's reproduction)."""
    prev = "0" * 64
    for entry in AuditEntry.objects.order_by("id"):
        if entry.action == "download_file":
            entry.summary = summary
        entry.prev_hash = prev
        entry.entry_hash = _unkeyed_hash(entry)
        _sql(
            "UPDATE clinic_auditentry SET summary = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
            [entry.summary, entry.prev_hash, entry.entry_hash, entry.pk],
        )
        prev = entry.entry_hash


def test_a_fresh_trail_with_its_head_exported_verifies(capsys):
    _trail()
    assert export_audit_head() is not None  # the beat task, run in-process: it returns the anchor's name
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "intact: 6 entries" in out and "head hashes agree: 1 checked" in out


def test_entries_are_keyed_not_plain_sha256(settings):
    _trail(2)
    entry = AuditEntry.objects.order_by("id").last()
    assert entry.version == AuditEntry.Version.HMAC_SHA256
    assert entry.entry_hash != _unkeyed_hash(entry)
    # The key lives in settings (the environment), not the database: another key, another hash.
    settings.INTAKE_AUDIT_KEY = "some-other-key"
    assert entry.compute_hash() != entry.entry_hash


def test_rewriting_every_row_and_recomputing_the_chain_is_detected():
    _trail()
    _rewrite_all_unkeyed("Opened nothing")
    with pytest.raises(CommandError, match="altered"):
        call_command("verify_audit_chain")


def test_an_unkeyed_row_after_keyed_ones_is_refused():
    """Dodging the key by marking one rewritten row as the old unkeyed version."""
    _trail(3)
    last = AuditEntry.objects.order_by("id").last()
    last.version = 1
    last.summary = "Opened nothing"
    _sql(
        "UPDATE clinic_auditentry SET version = 1, summary = %s, entry_hash = %s WHERE id = %s",
        [last.summary, _unkeyed_hash(last), last.pk],
    )
    with pytest.raises(CommandError, match="unkeyed after keyed"):
        call_command("verify_audit_chain")


def test_rows_rewritten_as_legacy_are_caught_by_the_exported_head():
    _trail(3)
    audit_head_export()
    _sql("UPDATE clinic_auditentry SET version = 1")
    _rewrite_all_unkeyed("Opened nothing")
    report = verify_anchors()
    assert not report.ok and "rewritten" in report.problem


def test_deleting_the_last_three_rows_is_detected():
    _trail(6)
    audit_head_export()
    last_three = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True)[:3])
    _sql(f"DELETE FROM clinic_auditentry WHERE id IN ({','.join(['%s'] * 3)})", last_three)
    with pytest.raises(CommandError, match="removed"):
        call_command("verify_audit_chain")


def test_legacy_rows_written_before_the_key_still_verify(capsys):
    """Rows from before the migration (version 1, plain SHA-256) stay valid,
    followed by keyed rows."""
    prev = "0" * 64
    for i in range(2):
        legacy = AuditEntry(action="export", summary=f"Old export {i}", prev_hash=prev, version=1)
        legacy.entry_hash = legacy.compute_hash()
        legacy.save()
        prev = legacy.entry_hash
    assert legacy.entry_hash == _unkeyed_hash(legacy)
    audit_record(action="export", summary="New export")
    call_command("verify_audit_chain")
    assert "intact: 3 entries" in capsys.readouterr().out


def test_an_anchor_planted_without_the_key_is_refused(settings):
    _trail(2)
    head = AuditEntry.objects.order_by("-id").first()
    folder = settings.STORAGES["audit"]["OPTIONS"]["location"]
    os.makedirs(folder, exist_ok=True)
    forged = {"format": 1, "entry_id": head.pk, "entry_hash": head.entry_hash, "entries": 2,
              "exported_at": "2026-11-25T00:00:00+00:00", "signature": "0" * 64}  # fmt: skip
    with open(os.path.join(folder, "forged.json"), "w") as fh:
        json.dump(forged, fh)
    with pytest.raises(CommandError, match="signature"):
        call_command("verify_audit_chain")


def test_anchors_are_never_overwritten():
    _trail(1)
    first = audit_head_export()
    second = audit_head_export()
    assert first != second and verify_anchors().checked == 2


def test_a_growing_trail_agrees_with_every_earlier_head():
    _trail(3)
    audit_head_export()
    _trail(4)
    audit_head_export()
    report = verify_anchors()
    assert report.ok and report.checked == 2
    # Removing an entry the first head covers is caught (by the chain and the heads).
    first = AuditEntry.objects.order_by("id").first()
    _sql("DELETE FROM clinic_auditentry WHERE id = %s", [first.pk])
    assert not verify_anchors().ok


def test_the_head_is_exported_on_a_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["export-audit-head"]
    assert entry["task"] == "clinic.tasks.export_audit_head"
    assert entry["schedule"] == settings.INTAKE_AUDIT_ANCHOR_SECONDS
    from clinic.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert entry["task"] in app.tasks


def test_a_trail_never_exported_is_reported(capsys):
    _trail(2)
    call_command("verify_audit_chain")
    assert "No head hash exported yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value, message",
    [(None, "INTAKE_AUDIT_KEY is not set"), ("short-key", "INTAKE_AUDIT_KEY is too short")],
)
def test_production_requires_a_real_audit_key(value, message):
    from tests.clinic.test_security import run_manage

    if value is None:
        result = run_manage("check", drop=("INTAKE_AUDIT_KEY",))
    else:
        result = run_manage("check", env_overrides={"INTAKE_AUDIT_KEY": value})
    assert result.returncode != 0 and message in result.stderr
