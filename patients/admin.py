"""Admin screens for every patients model. Chart rows are edited here only by managers;
the services remain the way the clinic's pages and API write."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from clinic.core.admin import ServiceOnlyAdmin
from clinic.users.access import signed_in_user
from clinic.users.actor import Actor

from .models import (
    Allergy,
    Assessment,
    Condition,
    DrugName,
    DuplicateCandidate,
    ImplantedDevice,
    IntakeItem,
    IntakeSubmission,
    LabResult,
    Medication,
    Patient,
    PatientMerge,
    Payer,
    UrgentFlag,
)
from .services import (
    DEMOGRAPHIC_FIELDS,
    MEDICATION_COMPUTED,
    medication_resolve,
    patient_create,
    patient_field_errors,
    patient_update,
)

ENTRY_READONLY: tuple[str, ...] = ("recorded_by", "recorded_at", "updated_at", "source")


class EntryInline(admin.TabularInline):
    extra = 0
    readonly_fields = ENTRY_READONLY
    show_change_link = True


class AllergyInline(EntryInline):
    model = Allergy
    fields = ("substance", "reaction", "severity", "procedure_class", "start_date", "end_date")


class MedicationInline(EntryInline):
    model = Medication
    fields = ("name", "drug_class", "indication", "dose", "frequency", "start_date", "end_date")
    readonly_fields = (*ENTRY_READONLY, *MEDICATION_COMPUTED)


class ConditionInline(EntryInline):
    model = Condition
    fields = ("kind", "description", "icd10_code", "icd10_flag", "start_date", "end_date")
    readonly_fields = (*EntryInline.readonly_fields, "icd10_flag")


class DeviceInline(EntryInline):
    model = ImplantedDevice
    fields = ("kind", "description", "manufacturer", "model_name", "start_date", "end_date")


class PatientAdminForm(forms.ModelForm):
    """Shows the services' own field rules (phone format, birth date) on the form."""

    class Meta:
        model = Patient
        fields = (*DEMOGRAPHIC_FIELDS, "user")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, texts in patient_field_errors(cleaned).items():
            if name in self.fields:
                self.add_error(name, texts)
        return cleaned


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    """Payers; their rule values (procedures.PayerRule) are edited under Procedures."""

    list_display = ("name", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "aliases")


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ("mrn", "legal_last_name", "legal_first_name", "date_of_birth", "status")
    list_filter = ("status", "needs_verification", "home_location")
    search_fields = ("mrn", "legal_last_name", "legal_first_name", "email", "phone")
    readonly_fields = ("mrn", "merged_into", "created_at", "updated_at")
    raw_id_fields = ("user",)
    list_select_related = ("home_location",)
    inlines = [AllergyInline, MedicationInline, ConditionInline, DeviceInline]
    fieldsets = [
        (None, {"fields": ("mrn", "status", "needs_verification", "merged_into", "user")}),
        (
            "Name and birth",
            {
                "fields": (
                    "legal_first_name",
                    "legal_last_name",
                    "preferred_name",
                    "date_of_birth",
                    "sex",
                )
            },
        ),
        (
            "Contact and consent",
            {"fields": ("phone", "email", "preferred_channel", "consent_sms", "consent_email")},
        ),
        ("Address", {"fields": ("address_line1", "address_line2", "city", "state", "postal_code")}),
        (
            "Emergency contact",
            {
                "fields": (
                    "emergency_contact_name",
                    "emergency_contact_relationship",
                    "emergency_contact_phone",
                )
            },
        ),
        (
            "Insurance",
            {"fields": ("insurance_payer", "payer", "insurance_member_id", "insurance_group")},
        ),
        (
            "Referral and clinic",
            {
                "fields": (
                    "referring_physician_name",
                    "referring_physician_phone",
                    "referring_physician_npi",
                    "home_location",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    ]

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        """A new patient goes through patient_create (its number, the contact rules and the
        duplicate check); a change of demographics through patient_update."""
        fields = form.cleaned_data
        demographics = {name: v for name, v in fields.items() if name in DEMOGRAPHIC_FIELDS}
        if not change:
            created = patient_create(
                by=Actor.admin(signed_in_user(request)), user=fields.get("user"), **demographics
            )
            _adopt(obj, created)
            return
        changed = [name for name in form.changed_data if name in demographics]
        patient_update(
            patient=Patient.objects.get(pk=obj.pk), **{n: demographics[n] for n in changed}
        )
        if "user" in form.changed_data:
            Patient.objects.filter(pk=obj.pk).update(user=fields.get("user"))
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        for entry in formset.save(commit=False):
            if entry.recorded_by_id is None:
                entry.recorded_by = request.user
            entry.save()
        for entry in formset.deleted_objects:
            entry.delete()


def _adopt(obj: Patient, saved: Patient) -> None:
    """Make the admin's object the row the service wrote, so its inlines attach to it."""
    for field in Patient._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


class EntryAdmin(admin.ModelAdmin):
    readonly_fields = ENTRY_READONLY
    raw_id_fields = ("patient",)
    list_select_related = ("patient",)
    date_hierarchy = "recorded_at"

    def save_model(self, request, obj, form, change):
        if obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Allergy)
class AllergyAdmin(EntryAdmin):
    list_display = ("substance", "procedure_class", "severity", "patient", "end_date")
    list_filter = ("procedure_class", "severity")
    search_fields = ("substance", "patient__mrn")


@admin.register(Medication)
class MedicationAdmin(EntryAdmin):
    list_display = (
        "name",
        "drug_class",
        "classification",
        "indication",
        "dose",
        "frequency",
        "patient",
        "end_date",
    )
    list_filter = ("classification", "drug_class", "indication")
    search_fields = ("name", "patient__mrn")
    readonly_fields = (*ENTRY_READONLY, *MEDICATION_COMPUTED)

    def save_model(self, request, obj, form, change):
        # A new or renamed medication is resolved against the drug vocabulary again.
        if not change or "name" in form.changed_data or obj.unrecognised:
            medication_resolve(obj)
        super().save_model(request, obj, form, change)


@admin.register(DrugName)
class DrugNameAdmin(admin.ModelAdmin):
    """The drug vocabulary (vocabulary/drug_names.csv as shipped): managers add or correct
    names; rows with `certain` unticked wait for a clinician to confirm them."""

    list_display = ("name", "generics", "drug_classes", "kind", "certain", "source", "updated_at")
    list_filter = ("kind", "certain")
    search_fields = ("name", "key", "note")
    readonly_fields = ("key", "updated_at")


@admin.register(LabResult)
class LabResultAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "unit", "taken_on", "patient", "recorded_by")
    list_filter = ("kind",)
    search_fields = ("patient__mrn",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient", "recorded_by")
    readonly_fields = ("recorded_by", "recorded_at")
    date_hierarchy = "taken_on"

    def save_model(self, request, obj, form, change):
        if obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Condition)
class ConditionAdmin(EntryAdmin):
    list_display = ("kind", "description", "icd10_code", "icd10_flag", "patient", "end_date")
    list_filter = ("kind",)
    search_fields = ("description", "icd10_code", "patient__mrn")
    readonly_fields = (*EntryAdmin.readonly_fields, "icd10_flag")

    @admin.display(description="ICD-10-CM check")
    def icd10_flag(self, condition: Condition) -> str:
        return condition.icd10_flag


@admin.register(ImplantedDevice)
class ImplantedDeviceAdmin(EntryAdmin):
    list_display = ("kind", "manufacturer", "model_name", "patient", "end_date")
    list_filter = ("kind",)
    search_fields = ("manufacturer", "model_name", "patient__mrn")


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("instrument", "body_region", "total", "band", "taken_at", "patient", "source")
    list_filter = ("instrument", "body_region", "source")
    search_fields = ("patient__mrn",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient",)
    date_hierarchy = "taken_at"
    # Totals and bands are computed from the items; they are never typed in.
    readonly_fields = ("total", "band", "flags", "recorded_by", "recorded_at")

    def has_add_permission(self, request):
        return False


class IntakeItemInline(admin.TabularInline):
    model = IntakeItem
    extra = 0
    can_delete = False
    fields = (
        "kind",
        "field",
        "proposed",
        "chart_value_at_submission",
        "decision",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IntakeSubmission)
class IntakeSubmissionAdmin(ServiceOnlyAdmin):
    """Intakes are reviewed in the clinic's pages (intake_item_decide, intake_mark_reviewed);
    here they are only read."""

    list_display = ("id", "patient", "status", "urgent", "submitted_at", "reviewed_at")
    list_filter = ("status", "urgent", "entered_by_staff")
    search_fields = ("patient__mrn",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient",)
    inlines = [IntakeItemInline]


@admin.register(IntakeItem)
class IntakeItemAdmin(ServiceOnlyAdmin):
    list_display = ("id", "kind", "field", "decision", "decided_by", "decided_at")
    list_filter = ("kind", "decision")


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    list_display = ("patient", "match", "status", "name_similarity", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("patient", "match")
    list_select_related = ("patient", "match")
    readonly_fields = ("reasons", "name_similarity", "resolved_by", "resolved_at", "created_at")


@admin.register(PatientMerge)
class PatientMergeAdmin(admin.ModelAdmin):
    """Merges are history: readable, never edited."""

    list_display = ("survivor", "merged", "merged_by", "merged_at")
    list_select_related = ("survivor", "merged", "merged_by")
    readonly_fields = [f.name for f in PatientMerge._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UrgentFlag)
class UrgentFlagAdmin(ServiceOnlyAdmin):
    """Danger signs and their acknowledgements: raised and acknowledged through the services
    (patients/urgent.py) only."""

    list_display = (
        "patient",
        "reason",
        "source",
        "raised_at",
        "acknowledged_by",
        "acknowledged_at",
    )
    list_filter = ("reason", "source")
    list_select_related = ("patient", "acknowledged_by")
    raw_id_fields = ("patient",)
