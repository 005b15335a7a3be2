"""Admin edits of settings data and content, and reads of cases (lists,
searches, pop-ups, refusals), go to the audit trail too."""

from clinic.models import AuditEntry, audit_fingerprint, audit_record


class AuditedAdminMixin:
    """Write an ADMIN_CHANGE audit entry for every save and delete (PHI-free:
    the object's kind, id and the names of the fields that changed)."""

    def _audit(self, request, obj, verb, fields=()):
        changed = f" ({', '.join(fields)})" if fields else ""
        audit_record(
            action=AuditEntry.Action.ADMIN_CHANGE,
            summary=f"{verb} {obj._meta.verbose_name} #{obj.pk} “{obj}”{changed}"[:300],
            actor=request.user,
            request=request,
            object_type=obj._meta.model_name,
            object_ref=str(obj.pk),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._audit(request, obj, "Changed" if change else "Added", form.changed_data if change else ())

    def delete_model(self, request, obj):
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        self._audit(request, obj, "Deleted")

    def delete_queryset(self, request, queryset):
        doomed = list(queryset)
        super().delete_queryset(request, queryset)
        for obj, pk in ((o, o.pk) for o in doomed):
            obj.pk = pk
            self._audit(request, obj, "Deleted")


class AuditedReadsMixin:
    """Reads of a model's admin go to the audit trail too, not only the
    detail page: the list (a list of patients is a read of each), a search
    (by a keyed hash of what was typed, never the text: staff search by name,
    email or phone), the raw-id pop-up, and refusals (a case asked for by id
    that is not in the user's queues, or does not exist: the same 404 to the
    user, recorded either way). Autocomplete lookups are recorded by the site
    (clinic.admin_site), since Django calls no admin hook of its own for them.
    PHI-free: counts, a hash, ids typed into the URL."""

    audit_object_type = "case"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 200) == 200:
            audit_record(
                action=AuditEntry.Action.VIEW_LIST,
                summary=list_summary(request, self.opts.verbose_name_plural),
                actor=request.user,
                request=request,
                object_type=f"{self.audit_object_type}_list",
            )
        return response

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Ids only: anything else typed into the URL is not repeated here.
            ref = str(object_id) if str(object_id).isdigit() else "(not an id)"
            audit_record(
                action=AuditEntry.Action.REFUSED,
                summary=f"Asked for {self.opts.verbose_name} #{ref[:20]}: not in the user's queues, or none",
                actor=request.user,
                request=request,
                object_type=self.audit_object_type,
                object_ref=ref[:40],
            )
        return obj


# Parameters of the admin's own list page that say nothing about what was looked for.
_LIST_PARAMETERS = {"p", "o", "all", "e", "_popup", "_to_field", "_changelist_filters", "q"}


def list_summary(request, what) -> str:
    params = request.GET
    parts = [f"Listed {what}"]
    if params.get("_popup"):
        parts.append("in a pop-up")
    if term := params.get("q", "").strip():
        parts.append(f"searched (term hash {audit_fingerprint('search', term)})")
    if filters := [k for k in params if k not in _LIST_PARAMETERS]:
        parts.append(f"with {len(filters)} filter{'s' if len(filters) > 1 else ''}")
    if "p" in params:
        parts.append(f"page {params.get('p', '')[:6]}")
    return ", ".join(parts)
