"""Editing the stretching content (supervisors).

Publishing goes through ``services.content_set_published`` whether it comes
from the checkbox's action or a single page, and a routine's stretches are
checked for spine order before anything is saved.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html
from modeltranslation.admin import TranslationAdmin

from clinic.admin_audit import AuditedAdminMixin

from .models import Condition, Routine, RoutineStep, Stretch
from .rules import check_spine_order
from .services import content_set_published, illustration_reencode, routine_check_publishable


class ContentAdmin(AuditedAdminMixin, TranslationAdmin):
    """What the three kinds of content share: filters, search, publishing, preview.

    Each text field shows once per language, English above Spanish
    (modeltranslation's plain TranslationAdmin: its tabbed variant loads
    jQuery UI from a CDN, which the site's policy forbids)."""

    list_filter = ["is_published"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    actions = ["publish", "unpublish"]
    review_fieldset = ("Clinical review and publishing", {"fields": ["reviewed_by", "reviewed_on", "is_published"]})

    def view_on_site(self, obj):
        # Drafts have no public page yet; staff see them through the preview.
        return obj.get_absolute_url() if obj.is_published else obj.get_preview_url()

    @admin.display(description="preview")
    def preview_link(self, obj):
        return format_html('<a href="{}">Preview</a>', obj.get_preview_url())

    def _set_published(self, request, queryset, published):
        done, refused = 0, []
        for obj in queryset:
            try:
                content_set_published(obj=obj, published=published)
            except ValidationError as err:
                refused.append(f"{obj}: {' '.join(err.messages)}")
                continue
            self.log_change(request, obj, [{"changed": {"fields": ["published"]}}])
            done += 1
        verb = "Published" if published else "Unpublished"
        if done:
            self.message_user(request, f"{verb} {done} item{'s' if done != 1 else ''}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Not {verb.lower()}: {line}", messages.ERROR)

    @admin.action(description="Publish the selected items", permissions=["change"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description="Unpublish the selected items", permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)


@admin.register(Condition)
class ConditionAdmin(ContentAdmin):
    list_display = ["name", "is_published", "reviewed_by", "reviewed_on", "preview_link"]
    search_fields = ["name", "summary", "body"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "body"]}),
        ContentAdmin.review_fieldset,
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]


@admin.register(Stretch)
class StretchAdmin(ContentAdmin):
    list_display = [
        "name",
        "region",
        "position",
        "hold_seconds",
        "repetitions",
        "is_published",
        "reviewed_on",
        "preview_link",
    ]
    list_filter = ["region", "is_published", "conditions"]
    list_editable = ["position"]
    search_fields = ["name", "summary", "helps", "steps"]
    filter_horizontal = ["conditions"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "region", "position", "summary"]}),
        ("The stretch", {"fields": ["helps", "steps", "breathing_cue", "cautions"]}),
        ("The hold", {"fields": ["hold_seconds", "repetitions", "per_side"]}),
        (
            "Illustration",
            {
                "fields": ["illustration", "illustration_alt"],
                "description": "Seeded stretches show the library's own drawing until you upload a picture. "
                "Uploads are re-encoded as WebP with their metadata (camera, place, time) removed.",
            },
        ),
        ("Related", {"fields": ["conditions"]}),
        ContentAdmin.review_fieldset,
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def save_model(self, request, obj, form, change):
        if "illustration" in form.changed_data and obj.illustration and not obj.illustration._committed:
            obj.illustration = illustration_reencode(uploaded=obj.illustration, slug=obj.slug)
        super().save_model(request, obj, form, change)


class SpineOrderFormSet(BaseInlineFormSet):
    """Refuses a set of steps that does not run from the neck down, naming the
    stretch that is out of place, before anything is saved."""

    def clean(self):
        super().clean()
        rows = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            stretch, order = form.cleaned_data.get("stretch"), form.cleaned_data.get("order")
            if stretch is None or order is None:
                continue
            rows.append((order, stretch))
        orders = [order for order, _ in rows]
        if len(set(orders)) != len(orders):
            raise ValidationError(
                "Two stretches have the same order number: give each its own.", code="duplicate_order"
            )
        stretches = [stretch for _, stretch in rows]
        if len(set(stretches)) != len(stretches):
            raise ValidationError("A stretch is in this routine twice: remove one of them.", code="duplicate_stretch")
        rows.sort(key=lambda row: row[0])
        check_spine_order([stretch for _, stretch in rows])


class RoutineStepInline(admin.TabularInline):
    model = RoutineStep
    formset = SpineOrderFormSet
    fields = ["order", "stretch"]
    autocomplete_fields = ["stretch"]
    extra = 1
    ordering = ["order"]


@admin.register(Routine)
class RoutineAdmin(ContentAdmin):
    list_display = ["name", "step_count", "is_published", "reviewed_on", "preview_link"]
    list_filter = ["is_published", "conditions"]
    search_fields = ["name", "summary", "description"]
    filter_horizontal = ["conditions"]
    inlines = [RoutineStepInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "description", "conditions"]}),
        ContentAdmin.review_fieldset,
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The steps are saved only now, after the routine itself: this is the
        # first moment the whole routine can be checked as the public would
        # see it. Rather than fail the save, keep the edits and the draft.
        routine = form.instance
        if routine.is_published:
            try:
                routine_check_publishable(routine=routine)
            except ValidationError as err:
                content_set_published(obj=routine, published=False)
                routine.is_published = False
                self.message_user(request, f"Saved, but not published: {' '.join(err.messages)}", messages.WARNING)

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_step_count=Count("steps"))

    @admin.display(description="stretches", ordering="_step_count")
    def step_count(self, obj):
        return obj._step_count
