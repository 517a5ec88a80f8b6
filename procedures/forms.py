"""Forms of the procedures staff pages. They parse input; every rule lives in services.py.

Two things happen here because they are about reading what was typed, not about rules:
levels typed as "L4-L5, L5-S1" become a list, and a wall-clock time typed in a
datetime-local input becomes an aware datetime in the chosen location's time zone (a time
that does not exist there, in the spring-forward gap, is a field error).
"""

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from clinic.core.forms import choice_field, focus_first_error, model_choice_field
from patients.forms import add_service_errors
from patients.icd10 import in_clinic_list
from patients.instruments import PGIC_ANSWERS
from sites.models import Location, Provider

from .models import (
    STEROID_NEEDS_DOSE,
    AuthStatus,
    ConcentrationUnit,
    DoseUnit,
    Guidance,
    OrderStatus,
    ProcedureOrder,
    ProcedureRecord,
    ProcedureType,
    Side,
    Steroid,
    Urgency,
    Usage,
)
from .pumps import PUMP_FIELDS, fills_a_pump
from .services import auth_answers
from .visits import VisitFacts

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
LOCAL_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


# Model constraints report themselves as "Constraint “name” is violated."; say it plainly,
# next to the field that needs changing.
def add_errors(form: forms.Form, error) -> None:
    """A service's ValidationFailed, next to the form's fields."""
    add_service_errors(form, error)


def parse_levels(text: str) -> list[str]:
    """ "l4-l5, L5-S1" -> ["L4-L5", "L5-S1"]: split on commas, semicolons or spaces."""
    levels = []
    for token in re.split(r"[\s,;]+", text or ""):
        token = token.strip().upper()
        if token and token not in levels:
            levels.append(token)
    return levels


class LevelsChoiceField(forms.MultipleChoiceField):
    """Levels ticked from the procedure's allowed levels. Typed text ("l4-l5, L5-S1", as the
    API and older clients send it) is read too; which levels a procedure allows is the
    service's rule, so the field only parses."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Levels")
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Tick each level treated.")
        super().__init__(**kwargs)

    def to_python(self, value) -> list[str]:
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        return parse_levels(",".join(str(v) for v in values))

    def validate(self, value) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


def level_choices(types) -> list:
    """Every level the procedure types allow, grouped by their region, in catalog order."""
    groups: dict[str, list[str]] = {}
    for kind in sorted(types, key=lambda t: t.region):
        levels = groups.setdefault(region_label(kind.region), [])
        levels.extend(level for level in kind.allowed_levels if level not in levels)
    return [
        (group, [(level, level) for level in levels]) for group, levels in groups.items() if levels
    ]


def region_label(region: str) -> str:
    return region.replace("_", " ").capitalize()


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, kept naive: the form gives it the location's zone."""

    input_formats = LOCAL_INPUT_FORMATS

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        # The parsing of BaseTemporalField, without DateTimeField's use of the current zone.
        return forms.fields.BaseTemporalField.to_python(self, value.strip())


class NonexistentTime(ValueError):
    pass


def in_zone(naive: datetime, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The aware datetime a wall clock in `zone` showed, and whether it was ambiguous.

    A time in the spring-forward gap raises NonexistentTime. A repeated time (the hour after
    the clocks go back) is taken as its first occurrence and reported as ambiguous.
    """
    local = naive.replace(tzinfo=zone, fold=0)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentTime(naive)
    ambiguous = naive.replace(tzinfo=zone, fold=1).utcoffset() != local.utcoffset()
    return local, ambiguous


def nonexistent_message(naive: datetime, zone_name: str) -> str:
    return (
        f"{naive:%Y-%m-%d %H:%M} does not exist in {zone_name}: the clocks went forward "
        "an hour that night. Enter the time as the clock showed it."
    )


def _date(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def _max(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_errors(self, error) -> None:
        add_errors(self, error)


class FocusingForm(Form):
    """A form that, shown again with errors (its own or a service's), opens on the first."""

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound:
            focus_first_error(self)

    def add_service_errors(self, error) -> None:
        super().add_service_errors(error)
        focus_first_error(self)


# --- Orders -----------------------------------------------------------------------------------


class OrderFilterForm(Form):
    status = forms.ChoiceField(
        label="Status", choices=[("", "All statuses"), *OrderStatus.choices], required=False
    )
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)


def procedure_type_choices(types) -> list:
    """Active procedure types grouped by body region, sorted by name within each group."""
    groups: dict[str, list] = {}
    for kind in sorted(types, key=lambda t: (t.region, t.name)):
        groups.setdefault(region_label(kind.region), []).append((str(kind.pk), kind.name))
    return [("", "Choose a procedure"), *sorted(groups.items())]


class OrderForm(FocusingForm):
    procedure_type = forms.ChoiceField(
        label="Procedure",
        help_text="Grouped by body region; type in the filter box to narrow the list.",
        widget=forms.Select(attrs={"size": 8, "data-procedure-select": ""}),
    )
    side = forms.ChoiceField(
        label="Side",
        choices=[("", "Not applicable"), *[c for c in Side.choices if c[0]]],
        required=False,
        help_text="Only for procedures done on one side or both.",
    )
    levels = LevelsChoiceField(
        help_text="Tick each level; only the levels of the chosen procedure are offered."
    )
    indication_code = forms.CharField(
        label="ICD-10 code",
        max_length=_max(ProcedureOrder, "indication_code"),
        help_text="Type a code or words (for example M54.16 or radiculopathy) to search the "
        "clinic's list. A code outside the list is accepted and flagged.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "size": 10, "list": "icd10-codes", "data-icd10": ""}
        ),
    )
    indication_text = forms.CharField(
        label="Indication", max_length=_max(ProcedureOrder, "indication_text")
    )
    urgency = forms.ChoiceField(label="Urgency", choices=Urgency.choices, initial=Urgency.ROUTINE)
    planned_date = _date("Planned date", required=False, help_text="Optional.")
    auth_status = forms.ChoiceField(
        label="Prior authorization", choices=AuthStatus.choices, initial=AuthStatus.PENDING
    )
    auth_number = forms.CharField(
        label="Authorization number",
        max_length=_max(ProcedureOrder, "auth_number"),
        required=False,
    )
    auth_expires = _date("Authorization expires", required=False)
    notes = forms.CharField(
        label="Clinical notes",
        required=False,
        help_text="Not shown to the front desk.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.types = {str(t.pk): t for t in ProcedureType.objects.filter(is_active=True)}
        choice_field(self, "procedure_type").choices = procedure_type_choices(self.types.values())
        choice_field(self, "levels").choices = level_choices(self.types.values())

    def clean_procedure_type(self):
        return self.types[self.cleaned_data["procedure_type"]]

    def clean_indication_code(self) -> str:
        return self.cleaned_data["indication_code"].strip().upper()

    def procedure_rules(self) -> dict[str, dict]:
        """Per procedure type, what the page's script needs to offer only what applies."""
        return {
            pk: {"side": kind.side_applies, "levels": list(kind.allowed_levels)}
            for pk, kind in self.types.items()
        }

    def code_outside_list(self) -> str:
        """The typed ICD-10 code when it is not in the clinic's list ("" otherwise)."""
        code = (self["indication_code"].value() or "").strip().upper()
        return "" if not code or in_clinic_list(code) else code

    def fieldsets(self):
        yield "Procedure", [self[n] for n in ("procedure_type", "side", "levels")]
        yield (
            "Indication and timing",
            [self[n] for n in ("indication_code", "indication_text", "urgency", "planned_date")],
        )
        yield (
            "Prior authorization",
            [self[n] for n in ("auth_status", "auth_number", "auth_expires")],
        )
        yield "Notes", [self["notes"]]


class AuthorizationForm(Form):
    """The payer's answer. It offers the answers legal now (services.auth_answers) and takes
    any status, so that a move made meanwhile on another page is the service's 409."""

    auth_status = forms.ChoiceField(label="Answer", choices=AuthStatus.choices)
    auth_number = forms.CharField(
        label="Authorization number",
        max_length=_max(ProcedureOrder, "auth_number"),
        required=False,
    )
    auth_expires = _date("Expires", required=False)

    def __init__(self, *args, order: ProcedureOrder, **kwargs):
        offered = auth_answers(order.auth_status)
        kwargs.setdefault("auto_id", "auth_%s")
        kwargs.setdefault(
            "initial",
            {
                "auth_status": order.auth_status if order.auth_status in offered else "",
                "auth_number": order.auth_number,
                "auth_expires": order.auth_expires,
            },
        )
        super().__init__(*args, **kwargs)
        select = self.fields["auth_status"].widget
        assert isinstance(select, forms.Select)
        select.choices = [c for c in AuthStatus.choices if c[0] in offered]

    @property
    def offers_answers(self) -> bool:
        select = self.fields["auth_status"].widget
        return bool(getattr(select, "choices", None))


class CancelForm(Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=300)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "cancel_%s")
        super().__init__(*args, **kwargs)


class OverrideForm(FocusingForm):
    finding_code = forms.CharField(max_length=80, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason for going ahead",
        help_text="Recorded with your name.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- Performed procedures and outcomes --------------------------------------------------------


def _decimal(label: str, digits: int, places: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=digits,
        decimal_places=places,
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )


class RecordForm(FocusingForm):
    """What was done. `performed_at` is read in the chosen location's time zone. Only the
    fields the procedure type uses are on the form (no pump fill on an injection)."""

    location = forms.ModelChoiceField(
        label="Location", queryset=Location.objects.none(), empty_label="Choose a location"
    )
    performed_at = LocalDateTimeField(
        label="Performed at",
        help_text="Local time at the location where the procedure was done.",
    )
    performer = forms.ModelChoiceField(
        label="Performed by", queryset=Provider.objects.none(), empty_label="Choose a provider"
    )
    side = forms.ChoiceField(
        label="Side",
        choices=[("", "Not applicable"), *[c for c in Side.choices if c[0]]],
        required=False,
    )
    levels = LevelsChoiceField()
    guidance = forms.ChoiceField(
        label="Guidance", choices=[("", "Choose the guidance"), *Guidance.choices]
    )
    steroid = forms.ModelChoiceField(
        label="Steroid", queryset=Steroid.objects.none(), required=False, empty_label="No steroid"
    )
    steroid_dose_mg = forms.DecimalField(
        label="Steroid dose (mg)",
        max_digits=6,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    local_anaesthetic = forms.CharField(
        label="Local anesthetic",
        max_length=_max(ProcedureRecord, "local_anaesthetic"),
        required=False,
        help_text="Drug, strength and volume, for example lidocaine 1% 2 mL.",
    )
    contrast = forms.CharField(
        label="Contrast agent",
        max_length=_max(ProcedureRecord, "contrast"),
        required=False,
        help_text="For example iohexol 300.",
    )
    contrast_volume_ml = _decimal("Contrast volume (mL)", 5, 1)
    fluoroscopy_seconds = forms.IntegerField(
        label="Fluoroscopy time (seconds)",
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"min": "0", "inputmode": "numeric"}),
    )
    fluoroscopy_dose_mgy = _decimal("Fluoroscopy dose, reference air kerma (mGy)", 7, 2)
    pre_nrs = forms.IntegerField(
        label="Pain before (NRS 0-10)", widget=forms.NumberInput(attrs={"min": 0, "max": 10})
    )
    post_nrs = forms.IntegerField(
        label="Pain after (NRS 0-10)", widget=forms.NumberInput(attrs={"min": 0, "max": 10})
    )
    complications = forms.CharField(
        label="Complications", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    pump_reservoir_ml = _decimal("Reservoir volume filled (mL)", 6, 2)
    pump_concentration = _decimal("Drug concentration", 10, 4)
    pump_concentration_unit = forms.ChoiceField(
        label="Concentration unit",
        choices=[("", "Choose the unit"), *ConcentrationUnit.choices],
        required=False,
    )
    pump_daily_dose = _decimal("Daily dose", 10, 4)
    pump_dose_unit = forms.ChoiceField(
        label="Dose unit", choices=[("", "Choose the unit"), *DoseUnit.choices], required=False
    )
    next_refill_due = forms.DateField(
        label="Next pump refill due",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty when the fill is given above: the refill date is then calculated "
        "(a safety margin before the reservoir is empty). The patient is reminded before it.",
    )

    FIELDSETS = (
        ("When and where", ("location", "performed_at", "performer")),
        ("What was done", ("side", "levels", "guidance")),
        ("Medication", ("steroid", "steroid_dose_mg", "local_anaesthetic")),
        (
            "Imaging and contrast",
            ("fluoroscopy_seconds", "fluoroscopy_dose_mgy", "contrast", "contrast_volume_ml"),
        ),
        ("Pain and course", ("pre_nrs", "post_nrs", "complications", "notes")),
        ("Intrathecal pump refill", (*PUMP_FIELDS, "next_refill_due")),
    )

    def __init__(
        self,
        *args,
        order: ProcedureOrder,
        visit: VisitFacts | None = None,
        provider_id=None,
        **kwargs,
    ):
        kwargs.setdefault("initial", record_initial(order, visit, provider_id))
        super().__init__(*args, **kwargs)
        self.ambiguous = False
        for name in unused_record_fields(order.procedure_type):
            del self.fields[name]
        model_choice_field(self, "location").queryset = Location.objects.filter(is_active=True)
        model_choice_field(self, "performer").queryset = Provider.objects.filter(is_active=True)
        if "steroid" in self.fields:
            model_choice_field(self, "steroid").queryset = Steroid.objects.all()
        if "levels" in self.fields:
            levels = order.procedure_type.allowed_levels
            choice_field(self, "levels").choices = [(level, level) for level in levels]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        naive, location = cleaned.get("performed_at"), cleaned.get("location")
        if naive is not None and location is not None and naive.tzinfo is None:
            try:
                cleaned["performed_at"], self.ambiguous = in_zone(naive, location.zone)
            except NonexistentTime:
                self.add_error("performed_at", nonexistent_message(naive, location.time_zone))
        if cleaned.get("steroid") and cleaned.get("steroid_dose_mg") is None:
            self.add_error("steroid_dose_mg", STEROID_NEEDS_DOSE)
        return cleaned

    def fieldsets(self):
        for legend, names in self.FIELDSETS:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                yield legend, fields


def record_initial(order: ProcedureOrder, visit: VisitFacts | None, provider_id) -> dict[str, Any]:
    """What the form starts with: the booked visit's time, place and provider when there is
    one (else the signed-in provider and the only location, if there is just one), and the
    order's side and levels."""
    initial: dict[str, Any] = {"side": order.side, "levels": order.levels, "performer": provider_id}
    if visit is not None:
        initial |= {
            "location": visit.location_id,
            "performer": visit.provider_id,
            "performed_at": visit.local_start.replace(tzinfo=None),
        }
        return initial
    locations = list(Location.objects.filter(is_active=True)[:2])
    if len(locations) == 1:
        initial["location"] = locations[0].pk
    return initial


def unused_record_fields(kind: ProcedureType) -> list[str]:
    """The record fields this procedure type does not use (catalog columns: side, levels,
    steroid, contrast and imaging; the pump fill only on an intrathecal implant or refill)."""
    unused = []
    if not kind.side_applies:
        unused.append("side")
    if not kind.levels_apply:
        unused.append("levels")
    if kind.steroid == Usage.NO:
        unused += ["steroid", "steroid_dose_mg"]
    if kind.contrast == Usage.NO:
        unused += ["contrast", "contrast_volume_ml"]
    if "fluoro" not in kind.imaging.lower():
        unused += ["fluoroscopy_seconds", "fluoroscopy_dose_mgy"]
    if not fills_a_pump(kind):
        unused += [*PUMP_FIELDS, "next_refill_due"]
    return unused


class OutcomeForm(Form):
    """A follow-up pain score; `measured_at` is read in the record's location time zone."""

    nrs = forms.IntegerField(
        label="Pain now (NRS 0-10)", widget=forms.NumberInput(attrs={"min": 0, "max": 10})
    )
    measured_at = LocalDateTimeField(
        label="Measured at", required=False, help_text="Local time; leave empty for now."
    )
    pgic = forms.TypedChoiceField(
        label="Global impression of change (PGIC)",
        choices=[("", "Not asked"), *[(n, label) for n, (_, label) in PGIC_ANSWERS.items()]],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, zone_name: str, **kwargs):
        kwargs.setdefault("auto_id", "outcome_%s")
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        naive = cleaned.get("measured_at")
        if naive is not None and naive.tzinfo is None:
            try:
                cleaned["measured_at"], _ = in_zone(naive, ZoneInfo(self.zone_name))
            except NonexistentTime:
                self.add_error("measured_at", nonexistent_message(naive, self.zone_name))
        return cleaned
