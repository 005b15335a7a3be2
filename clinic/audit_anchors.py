"""The audit chain's head hash, exported where the database cannot rewrite it.

The keyed chain (clinic.models) shows that no row was altered and none removed
from the middle. It cannot show that rows were removed from the end: the
shortened chain is still a valid chain. So every INTAKE_AUDIT_ANCHOR_SECONDS
beat writes the head (its id, its hash, how many entries lead to it) as a new
object in the "audit" storage (STORAGES["audit"]): a local folder written
read-only, or a bucket with S3 Object Lock. Objects are only ever added, never
opened for writing again. ``verify_anchors`` checks every one of them against
the table, so removing the last entries, or rewriting any entry an anchor
covers, is found.

What this cannot see: entries written after the newest anchor (at most
INTAKE_AUDIT_ANCHOR_SECONDS old) and removed before the next one. On several
machines the local folder is only on beat's machine: production names a bucket
(INTAKE_AUDIT_S3_BUCKET) with Object Lock, so verify_audit_chain runs anywhere.

An anchor is signed with INTAKE_AUDIT_KEY too, so one planted in the storage by
someone without the key is refused. PHI-free: ids, hashes, counts, times.
"""

import hmac
import json
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from .models import AuditEntry, audit_hmac

FORMAT = 1


def _storage():
    return storages["audit"]


def _signed_fields(data: dict) -> str:
    return json.dumps(
        [data["format"], data["entry_id"], data["entry_hash"], data["entries"], data["exported_at"]],
        separators=(",", ":"),
    )


def audit_head_export() -> str | None:
    """Write the chain's head as a new anchor object; return its name (None
    while the trail is empty)."""
    head = AuditEntry.objects.order_by("-id").values("id", "entry_hash").first()
    if head is None:
        return None
    now = timezone.now()
    data = {
        "format": FORMAT,
        "entry_id": head["id"],
        "entry_hash": head["entry_hash"],
        # Appends are serialised (audit_record), so every lower id committed first.
        "entries": AuditEntry.objects.filter(id__lte=head["id"]).count(),
        "exported_at": now.isoformat(),
    }
    data["signature"] = audit_hmac(_signed_fields(data))
    # A name per export, never reused: storage.save picks a fresh name rather
    # than overwrite, so an earlier anchor is never replaced.
    name = f"{now:%Y-%m-%d}/{now:%Y%m%dT%H%M%S%f}-{head['id']}.json"
    return _storage().save(name, ContentFile(json.dumps(data, sort_keys=True).encode()))


def _anchor_names(storage, folder=""):
    dirs, files = storage.listdir(folder)
    for f in sorted(files):
        if f.endswith(".json"):
            yield f"{folder}/{f}" if folder else f
    for d in sorted(dirs):
        yield from _anchor_names(storage, f"{folder}/{d}" if folder else d)


@dataclass
class AnchorReport:
    ok: bool
    checked: int
    problem: str = ""
    newest: str = ""


def _read_anchors(storage, names):
    for name in names:
        with storage.open(name) as fh:
            try:
                data = json.loads(fh.read())
                signed = _signed_fields(data)
            except (ValueError, KeyError, TypeError):
                yield name, None, "unreadable"
                continue
        if not hmac.compare_digest(audit_hmac(signed), str(data.get("signature", ""))):
            yield name, None, "its signature does not match (not written by this site)"
            continue
        yield name, data, ""


def verify_anchors() -> AnchorReport:
    """Check every exported head against the table: the entry it names is
    there with the same hash, and as many entries lead up to it as then.
    Oldest head first; the counts are taken range by range, so the whole
    check reads the table's index about once however many anchors there are."""
    storage = _storage()
    try:
        names = list(_anchor_names(storage))
    except FileNotFoundError:
        names = []
    anchors = []
    for n, (name, data, problem) in enumerate(_read_anchors(storage, names), start=1):
        if problem:
            return AnchorReport(False, n, f"anchor {name}: {problem}")
        anchors.append((data["entry_id"], data["exported_at"], name, data))
    anchors.sort(key=lambda a: (a[0], a[1]))
    counted_to, count = 0, 0
    for n, (entry_id, _, name, data) in enumerate(anchors, start=1):
        stored = AuditEntry.objects.filter(id=entry_id).values_list("entry_hash", flat=True).first()
        if stored is None:
            return AnchorReport(False, n, f"anchor {name}: entry {entry_id} is gone (entries at the end were removed)")
        if not hmac.compare_digest(stored, data["entry_hash"]):
            return AnchorReport(False, n, f"anchor {name}: entry {entry_id} was rewritten")
        count += AuditEntry.objects.filter(id__gt=counted_to, id__lte=entry_id).count()
        counted_to = entry_id
        if count != data["entries"]:
            return AnchorReport(False, n, f"anchor {name}: entries up to {entry_id} were removed")
    newest = max((a[1] for a in anchors), default="")
    return AnchorReport(True, len(anchors), newest=newest)
