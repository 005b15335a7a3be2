"""Admin edits of settings data and content go to the audit trail too."""

from clinic.models import AuditEntry, audit_record


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
