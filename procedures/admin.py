"""Admin screens: managers edit the catalog and every safety rule value here."""

from typing import Any

import pghistory
from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clinic.core.admin import ServiceOnlyAdmin, service_action
from clinic.users.access import signed_in_user
from clinic.users.actor import Actor

from .models import (
    AnticoagulantRule,
    NoteAddendum,
    PayerRule,
    ProcedureCode,
    ProcedureConsent,
    ProcedureNote,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyOverride,
    SafetyRule,
    SafetyThreshold,
    Steroid,
)
from .rule_history import rule_edits
from .services import order_cancel, order_request_authorization


def _editor(request: HttpRequest) -> pghistory.context:
    """The context the rule tables' triggers store with each edit: who, and on which page."""
    user = request.user
    return pghistory.context(
        user=str(user.pk) if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else "",
        url=request.path,
    )


class RuleHistoryAdmin(admin.ModelAdmin):
    """A rule table: every edit made here is recorded (who, when, old and new value, by
    django-pghistory's triggers) and the change form's History shows them."""

    object_history_template = "admin/procedures/rule_history.html"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with _editor(request):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        with _editor(request):  # list_editable values are saved here
            return super().changelist_view(request, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with _editor(request):
            return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such rule.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Edit history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "edits": rule_edits(obj),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)


class ProcedureCodeInline(admin.TabularInline):
    """The procedure's CPT codes, each with its add-on flag and modifiers (space-separated)."""

    model = ProcedureCode
    extra = 0
    fields = ("position", "code", "description", "add_on", "modifiers", "certain", "note")


class OneALineField(SimpleArrayField):
    """A list edited one item a line: consent risks have commas of their own."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 8}))
        super().__init__(forms.CharField(max_length=200), delimiter="\n", **kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = "\n".join(line.strip() for line in value.splitlines() if line.strip())
        return super().to_python(value)


class ProcedureTypeForm(forms.ModelForm):
    consent_risks = OneALineField(required=False, help_text="One risk a line.")

    class Meta:
        model = ProcedureType
        fields = "__all__"  # noqa: DJ007 - the fieldsets below choose what the page shows


@admin.register(ProcedureType)
class ProcedureTypeAdmin(RuleHistoryAdmin):
    form = ProcedureTypeForm
    list_display = (
        "name",
        "code",
        "family",
        "region",
        "bleeding_risk",
        "room_kind",
        "default_minutes",
        "is_active",
    )
    list_filter = ("family", "region", "bleeding_risk", "room_kind", "sedation", "is_active")
    search_fields = ("name", "name_es", "code", "procedure_codes__code")
    filter_horizontal = ("providers",)
    inlines = [ProcedureCodeInline]
    fieldsets = [
        (None, {"fields": ("code", "name", "name_es", "family", "region", "purpose", "is_active")}),
        ("Coding and guidance", {"fields": ("imaging", "room_kind")}),
        (
            "Medicines and sedation",
            {
                "fields": (
                    "steroid",
                    "nonparticulate_steroid_only",
                    "contrast",
                    "sedation",
                    "needs_driver",
                    "fasting_hours",
                )
            },
        ),
        (
            "Safety",
            {
                "fields": (
                    "bleeding_risk",
                    "side_applies",
                    "levels_apply",
                    "allowed_levels",
                    "max_levels",
                )
            },
        ),
        ("Time", {"fields": ("default_minutes", "minutes_per_extra_level", "turnover_minutes")}),
        (
            "Follow-up and preparation",
            {"fields": ("follow_up_plan", "follow_up_notes", "preparation", "preparation_es")},
        ),
        ("Consent", {"fields": ("consent_risks",)}),
        ("Source", {"fields": ("uncertain_fields", "source_note")}),
    ]


@admin.register(SafetyThreshold)
class SafetyThresholdAdmin(RuleHistoryAdmin):
    list_display = ("key", "value", "unit", "description", "source", "certain")
    list_editable = ("value",)
    list_filter = ("certain",)
    search_fields = ("key", "description")
    readonly_fields = ("updated_at",)


@admin.register(PayerRule)
class PayerRuleAdmin(RuleHistoryAdmin):
    """A payer's own rule values; without a row a payer keeps the Medicare LCD threshold."""

    list_display = ("payer", "key", "value", "source", "certain")
    list_filter = ("payer", "key", "certain")
    list_select_related = ("payer",)
    search_fields = ("payer__name", "key", "source")
    readonly_fields = ("updated_at",)


@admin.register(AnticoagulantRule)
class AnticoagulantRuleAdmin(RuleHistoryAdmin):
    list_display = (
        "drug",
        "drug_class",
        "high_decision",
        "high_hours",
        "intermediate_decision",
        "intermediate_hours",
        "low_decision",
        "low_hours",
        "certain",
    )
    list_filter = ("drug_class", "certain")
    search_fields = ("drug",)


@admin.register(Steroid)
class SteroidAdmin(RuleHistoryAdmin):
    list_display = (
        "name",
        "methylprednisolone_factor",
        "max_dose_per_session_mg",
        "particulate",
        "certain",
    )


@admin.register(SafetyRule)
class SafetyRuleAdmin(RuleHistoryAdmin):
    """Allergy, condition, device and medication rules: severity, advice and source."""

    list_display = ("key", "severity", "applies_when", "certain")
    list_editable = ("severity",)
    list_filter = ("severity", "certain")
    search_fields = ("key", "applies_when", "advice")
    readonly_fields = ("key", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a rule exists because the check has code for it

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class OverrideInline(ReadOnlyInline):
    model = SafetyOverride


class CancelOrderForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Kept with the order.")


class ConfirmForm(forms.Form):
    """An action with nothing to ask: its page lists the rows and asks to confirm."""


@admin.register(ProcedureOrder)
class ProcedureOrderAdmin(ServiceOnlyAdmin):
    """Read-only: orders are made, checked and moved by the procedures services (the
    clinician's pages); here a manager may only cancel one, with a reason."""

    list_display = (
        "id",
        "procedure_type",
        "patient",
        "status",
        "auth_status",
        "auth_requested_at",
        "planned_date",
        "ordered_at",
    )
    list_filter = ("status", "auth_status", "urgency", "procedure_type__family")
    raw_id_fields = ("patient",)
    list_select_related = ("procedure_type", "patient")
    inlines = [OverrideInline]
    actions = ["cancel_with_reason", "request_authorization"]

    @admin.action(
        description="Record that prior authorization was requested from the payer",
        permissions=["act"],
    )
    def request_authorization(
        self, request: HttpRequest, queryset: QuerySet[ProcedureOrder]
    ) -> HttpResponse | None:
        def ask(order: ProcedureOrder, data: dict[str, Any]) -> ProcedureOrder:
            return order_request_authorization(order=order, by=Actor.admin(signed_in_user(request)))

        return service_action(
            self,
            request,
            queryset,
            form_class=ConfirmForm,
            title="Record that prior authorization was requested",
            perform=ask,
            done="request(s) recorded",
        )

    @admin.action(
        description="Cancel the selected orders (asks for the reason)", permissions=["act"]
    )
    def cancel_with_reason(
        self, request: HttpRequest, queryset: QuerySet[ProcedureOrder]
    ) -> HttpResponse | None:
        def cancel(order: ProcedureOrder, data: dict[str, Any]) -> ProcedureOrder:
            return order_cancel(
                order=order, reason=data["reason"], by=Actor.admin(signed_in_user(request))
            )

        return service_action(
            self,
            request,
            queryset,
            form_class=CancelOrderForm,
            title="Cancel the orders",
            perform=cancel,
            done="order(s) cancelled",
        )


class OutcomeInline(ReadOnlyInline):
    model = ProcedureOutcome


@admin.register(ProcedureRecord)
class ProcedureRecordAdmin(ServiceOnlyAdmin):
    """Records and their follow-ups are written by the procedures services only."""

    list_display = (
        "id",
        "procedure_type",
        "patient",
        "performed_at",
        "performer",
        "best_relief_percent",
    )
    list_filter = ("procedure_type__family", "guidance", "location")
    raw_id_fields = ("patient", "order")
    list_select_related = ("procedure_type", "patient", "performer")
    inlines = [OutcomeInline]


@admin.register(SafetyOverride)
class SafetyOverrideAdmin(admin.ModelAdmin):
    """Overrides are history: readable, never edited."""

    list_display = ("finding_code", "order", "overridden_by", "overridden_at")
    readonly_fields = ("order", "finding_code", "reason", "overridden_by", "overridden_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProcedureOutcome)
class ProcedureOutcomeAdmin(ServiceOnlyAdmin):
    list_display = ("record", "measured_at", "nrs", "percent_relief", "source")
    list_select_related = ("record__procedure_type",)


# --- Consents and procedure notes: written on their pages (procedures/note_views.py) ----------


@admin.register(ProcedureConsent)
class ProcedureConsentAdmin(ServiceOnlyAdmin):
    """Consents are kept as taken (PostgreSQL refuses changes): readable here."""

    list_display = ("order", "patient", "given_by", "obtained_by", "obtained_at")
    list_select_related = ("order__procedure_type", "patient", "obtained_by")
    raw_id_fields = ("order", "patient")


class AddendumInline(ReadOnlyInline):
    model = NoteAddendum
    fields = ("written_at", "writer_name", "reason", "text")
    readonly_fields = fields


@admin.register(ProcedureNote)
class ProcedureNoteAdmin(ServiceOnlyAdmin):
    """Notes are written and signed on the record's note page; a signed note is locked
    (PostgreSQL refuses changes) and grows only by addenda, shown here below it."""

    list_display = ("record", "patient", "status", "signer_name", "signed_at")
    list_filter = ("status",)
    list_select_related = ("record__procedure_type", "patient")
    raw_id_fields = ("record", "patient", "consent")
    inlines = [AddendumInline]


@admin.register(NoteAddendum)
class NoteAddendumAdmin(ServiceOnlyAdmin):
    """Addenda are written on the signed note's page and never change: readable here."""

    list_display = ("note", "writer_name", "written_at")
    list_select_related = ("note__record__procedure_type",)
    raw_id_fields = ("note",)


@admin.register(ProcedureCode)
class ProcedureCodeAdmin(RuleHistoryAdmin):
    """Each CPT code of the catalog, also edited inline on its procedure type."""

    list_display = ("code", "procedure_type", "add_on", "certain")
    list_filter = ("add_on", "certain")
    list_select_related = ("procedure_type",)
    search_fields = ("code", "description", "procedure_type__name")
