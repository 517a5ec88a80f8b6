"""Forms of the portal's intake steps.

Each step form turns what the patient typed into the section that
patients.services.intake_draft_save keeps (the shapes intake_submit takes), shows a saved
section again, puts the service's errors (keyed as intake_submit's) next to its fields and
lists them for the error summary. The rules about the answers live in the service; a form
only parses input and words its messages for a patient.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from localflavor.us.us_states import STATE_CHOICES

from clinic.core.db import max_length
from clinic.core.phones import format_phone, normalize_phone
from patients.models import (
    AllergySeverity,
    BodyRegion,
    ConditionKind,
    DeviceKind,
    Patient,
    ProcedureAllergyClass,
)
from patients.questionnaire import (
    BLOOD_THINNER_ANSWERS,
    MEDICATION_NAME_LIMIT,
    ONSET_CHOICES,
    RED_FLAGS,
    TEXT_LIMIT,
)
from patients.selectors import blood_thinner_choices
from patients.services import PHONE_FIELDS

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

MAX_ROWS = 30


@dataclass(frozen=True)
class ErrorLink:
    """One line of the error summary: the id of the input it leads to, and the message."""

    target: str
    text: str


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [m for inner in value.values() for m in _messages(inner)]
    if isinstance(value, list | tuple):
        return [m for inner in value for m in _messages(inner)]
    return [str(value)]


def focus_id(bound: forms.BoundField) -> str:
    """The id of the input an error link leads to (the first choice of a radio group)."""
    if bound.use_fieldset:
        return f"{bound.auto_id}_0"
    return bound.id_for_label


def _about(label, error) -> str:
    label = str(label)
    return f"{label} {error}" if label.endswith("?") else f"{label}: {error}"


def _field_links(form: forms.Form, prefix: str = "") -> list[ErrorLink]:
    links = []
    first = next(iter(form), None)
    for error in form.non_field_errors():
        links.append(ErrorLink(focus_id(first) if first else "", f"{prefix}{error}"))
    for bound in form:
        for error in bound.errors:
            links.append(ErrorLink(focus_id(bound), prefix + _about(bound.label, error)))
    return links


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _choice_label(choices, value) -> str:
    for key, label in choices:
        if isinstance(label, list | tuple):  # a group of choices
            found = _choice_label(label, value)
            if found != str(value):
                return found
        elif str(key) == str(value):
            return str(label)
    return str(value)


class StepForm(forms.Form):
    """What every step form does. `draft` is the whole draft (all sections so far)."""

    step = ""
    template = ""

    def __init__(self, data=None, *, patient: Patient, draft: dict, **kwargs):
        kwargs.setdefault("label_suffix", "")
        self.patient = patient
        self.draft = draft
        self.section = draft.get(self.step)
        if data is None:
            kwargs.setdefault("initial", self.initial_of(self.section))
        super().__init__(data, **kwargs)

    @classmethod
    def from_draft(cls, *, patient: Patient, draft: dict) -> "StepForm":
        """The form bound to the saved section, to show the service's errors on it."""
        probe = cls(patient=patient, draft=draft)
        data = {}
        for name, field in probe.fields.items():
            value = probe.get_initial_for_field(field, name)
            data[name] = [str(v) for v in value] if isinstance(value, list) else value
        return cls(
            {k: ("" if v is None else v) for k, v in data.items()}, patient=patient, draft=draft
        )

    def initial_of(self, section) -> dict:
        return dict(section or {})

    def section_data(self):
        raise NotImplementedError

    def service_errors_of(self, fields: dict) -> dict:
        """This step's part of an intake_submit-shaped error."""
        raise NotImplementedError

    def add_service_errors(self, fields: dict) -> None:
        for name, messages in self.service_errors_of(fields).items():
            target = name if name in self.fields else None
            for message in _messages(messages):
                self.add_error(target, message)

    def error_links(self) -> list[ErrorLink]:
        return _field_links(self)

    def label_of(self, name: str) -> str:
        """The question of field `name`, as the review page repeats it."""
        return str(self.fields[name].label)

    def summary(self) -> list[tuple[str, str]]:
        """(question, answer) pairs for the review page."""
        raise NotImplementedError


# --- 1. About you -------------------------------------------------------------------------


def _max(name: str) -> int:
    return max_length(Patient, name)


def _text(label: "StrOrPromise", name: str, autocomplete: str, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=_max(name),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )


class PhoneField(forms.CharField):
    """A phone number shown as people write it, (919) 555-0123, and compared by the number
    it names: the chart's +19195550123 sent back as shown is not a change."""

    def to_python(self, value) -> str:
        return _number_of(super().to_python(value))

    def prepare_value(self, value):
        return _shown_phone(str(value or ""))

    def has_changed(self, initial, data) -> bool:
        return _number_of(initial) != _number_of(data)


def _phone(label: "StrOrPromise", autocomplete: str) -> forms.CharField:
    return PhoneField(
        label=label,
        max_length=32,
        required=False,
        help_text=_("For example (919) 555-0123."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": autocomplete}),
    )


ABOUT_FIELDSETS = (
    (
        _("Your contact details"),
        (
            "phone",
            "email",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
        ),
    ),
    (
        _("Emergency contact"),
        ("emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"),
    ),
    (_("Insurance"), ("insurance_payer", "insurance_member_id", "insurance_group")),
    (_("Doctor who referred you"), ("referring_physician_name", "referring_physician_phone")),
)


class AboutForm(StepForm):
    """Contact details, emergency contact, insurance. It starts from the chart; only what
    the patient changes is kept, and becomes a proposal for the front desk to accept."""

    step = "about"
    template = "portal/intake/steps/about.html"

    phone = _phone(_("Mobile or main phone"), "tel")
    email = forms.EmailField(
        label=_("Email"),
        max_length=_max("email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    address_line1 = _text(_("Address line 1"), "address_line1", "address-line1")
    address_line2 = _text(_("Address line 2"), "address_line2", "address-line2")
    city = _text(_("City or town"), "city", "address-level2")
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("Choose a state"))] + [(code, name) for code, name in STATE_CHOICES],
        required=False,
        widget=forms.Select(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = _text(
        _("ZIP code"),
        "postal_code",
        "postal-code",
        help_text=_("5 digits, or ZIP+4 such as 80210-1234."),
    )

    emergency_contact_name = _text(_("Name"), "emergency_contact_name", "off")
    emergency_contact_relationship = _text(
        _("Relationship to you"),
        "emergency_contact_relationship",
        "off",
        help_text=_("For example spouse, daughter, friend."),
    )
    emergency_contact_phone = _phone(_("Phone"), "off")

    insurance_payer = _text(
        _("Insurance company"), "insurance_payer", "off", help_text=_("As on your insurance card.")
    )
    insurance_member_id = _text(_("Member ID"), "insurance_member_id", "off")
    insurance_group = _text(_("Group number"), "insurance_group", "off")

    referring_physician_name = _text(_("Doctor's name"), "referring_physician_name", "off")
    referring_physician_phone = _phone(_("Doctor's phone"), "off")

    def __init__(self, data=None, *, patient: Patient, draft: dict, **kwargs):
        super().__init__(data, patient=patient, draft=draft, **kwargs)
        if data is not None:
            # Bound: compare with the chart, so that changed_data names what differs from it.
            self.initial = self.chart_values()

    def chart_values(self) -> dict:
        return {name: getattr(self.patient, name) or "" for name in self.base_fields}

    def initial_of(self, section) -> dict:
        return self.chart_values() | dict(section or {})

    @classmethod
    def from_draft(cls, *, patient: Patient, draft: dict) -> "AboutForm":
        probe = cls(patient=patient, draft=draft)
        return cls(probe.initial_of(probe.section), patient=patient, draft=draft)

    def fieldsets(self):
        for legend, names in ABOUT_FIELDSETS:
            yield legend, [self[name] for name in names]

    def section_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}

    def service_errors_of(self, fields: dict) -> dict:
        return fields.get("demographics") or {}

    def summary(self) -> list[tuple[str, str]]:
        section: dict[str, Any] = self.section or {}
        if not section:
            return [(gettext("Changes to your details"), gettext("None"))]
        return [
            (self.label_of(name), _shown_value(name, value) or gettext("(left blank)"))
            for name, value in section.items()
        ]


def _number_of(text: object) -> str:
    """The number a phone field's text names (E.164), or the text itself if it names none."""
    text = str(text or "").strip()
    try:
        return normalize_phone(text)
    except ValidationError:
        return text


def _shown_phone(number: str) -> str:
    """A number in its national form, (919) 555-0100; as typed if it is not one."""
    e164 = _number_of(number)
    return format_phone(e164) if e164.startswith("+") else e164


def _shown_value(name: str, value) -> str:
    if name in PHONE_FIELDS and value:
        return _shown_phone(str(value))
    if name == "state" and value:
        return dict(STATE_CHOICES).get(value, value)
    return value


# --- 2. Your pain -------------------------------------------------------------------------

ONSET_LABELS = {
    "sudden": _("Suddenly"),
    "gradual": _("Gradually, over time"),
    "after_injury": _("After an injury or accident"),
    "after_surgery": _("After surgery"),
    "unknown": _("I'm not sure"),
}
# What the draft keeps (these English values); what the patient reads (their labels).
TREATMENT_LABELS = {
    "physical therapy": _("Physical therapy"),
    "exercise or stretching": _("Exercise or stretching"),
    "chiropractic care": _("Chiropractic care"),
    "massage": _("Massage"),
    "acupuncture": _("Acupuncture"),
    "heat or ice": _("Heat or ice"),
    "over-the-counter pain medicine": _("Over-the-counter pain medicine"),
    "prescription pain medicine": _("Prescription pain medicine"),
    "injections": _("Injections"),
    "surgery": _("Surgery"),
}
TREATMENTS = tuple(TREATMENT_LABELS)


class PainForm(StepForm):
    step = "pain"
    template = "portal/intake/steps/pain.html"

    chief_complaint = forms.CharField(
        label=_("What brings you to the clinic?"),
        help_text=_(
            "In your own words: where it hurts, how it feels, what makes it better or worse."
        ),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Tell us in a few words what brings you to the clinic.")},
    )
    pain_locations = forms.MultipleChoiceField(
        label=_("Where do you feel pain?"),
        help_text="Choose all that apply.",
        choices=BodyRegion.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    onset = forms.ChoiceField(
        label=_("How did the pain start?"),
        choices=[(key, ONSET_LABELS.get(key, key)) for key in ONSET_CHOICES],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the pain started, or “I'm not sure”.")},
    )
    pain_duration = forms.CharField(
        label=_("How long have you had this pain?"),
        help_text=_("For example 6 months or 2 years."),
        max_length=200,
        required=False,
    )
    treatments = forms.MultipleChoiceField(
        label=_("What have you already tried for this pain?"),
        help_text="Choose all that apply.",
        choices=list(TREATMENT_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_treatments = forms.CharField(
        label=_("Anything else you have tried"),
        help_text=_("One per line."),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def initial_of(self, section) -> dict:
        section = dict(section or {})
        tried = section.pop("treatments_tried", [])
        return section | {
            "treatments": [t for t in tried if t in TREATMENTS],
            "other_treatments": "\n".join(t for t in tried if t not in TREATMENTS),
        }

    def section_data(self) -> dict:
        data = self.cleaned_data
        return {
            "chief_complaint": data["chief_complaint"],
            "pain_locations": list(data["pain_locations"]),
            "onset": data["onset"],
            "pain_duration": data["pain_duration"],
            "treatments_tried": list(data["treatments"]) + _lines(data["other_treatments"]),
        }

    def service_errors_of(self, fields: dict) -> dict:
        answers = fields.get("answers")
        if not isinstance(answers, dict):
            return {"__all__": answers} if answers else {}
        errors = {k: v for k, v in answers.items() if k != "red_flags"}
        if "treatments_tried" in errors:
            errors["other_treatments"] = errors.pop("treatments_tried")
        return errors

    def summary(self) -> list[tuple[str, str]]:
        section: dict[str, Any] = self.section or {}
        if not section:
            return []
        locations = ", ".join(
            _choice_label(BodyRegion.choices, loc) for loc in section.get("pain_locations", [])
        )
        onset, tried = section.get("onset", ""), section.get("treatments_tried", [])
        return [
            (self.label_of("chief_complaint"), section.get("chief_complaint", "")),
            (self.label_of("pain_locations"), locations or gettext("Not given")),
            (self.label_of("onset"), str(ONSET_LABELS.get(onset, "")) or gettext("Not given")),
            (
                self.label_of("pain_duration"),
                section.get("pain_duration") or gettext("Not given"),
            ),
            (
                self.label_of("treatments"),
                ", ".join(str(TREATMENT_LABELS.get(t, t)) for t in tried)
                or gettext("Nothing listed"),
            ),
        ]


# --- 3 and 4. Medicines and allergies: repeatable rows ------------------------------------

ALLERGY_CLASS_CHOICES = [
    (ProcedureAllergyClass.NONE, _("None of these")),
    (ProcedureAllergyClass.IODINATED_CONTRAST, _("X-ray dye (iodinated contrast)")),
    (ProcedureAllergyClass.LATEX, _("Latex (rubber gloves, balloons)")),
    (ProcedureAllergyClass.LOCAL_ANAESTHETIC, _("Numbing medicine (lidocaine, local anaesthetic)")),
    (ProcedureAllergyClass.CORTICOSTEROID, _("Steroids (cortisone, prednisone)")),
    (ProcedureAllergyClass.CHLORHEXIDINE, _("Chlorhexidine skin cleanser")),
    (ProcedureAllergyClass.BONE_CEMENT, _("Bone cement")),
]
SEVERITY_LABELS: dict[str, "StrOrPromise"] = {
    AllergySeverity.MILD: _("Mild (a rash, itching)"),
    AllergySeverity.MODERATE: _("Moderate"),
    AllergySeverity.SEVERE: _("Severe"),
    AllergySeverity.ANAPHYLAXIS: _("Anaphylaxis (swelling of the throat, trouble breathing)"),
    AllergySeverity.UNKNOWN: _("I don't know"),
}


class MedicationRowForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the medicine"),
        help_text=_("As on the bottle or box, for example Eliquis or gabapentin."),
        max_length=120,
        error_messages={"required": _("Give the name of the medicine, or remove this row.")},
    )
    dose = forms.CharField(
        label=_("Dose"), max_length=60, required=False, help_text=_("For example 5 mg.")
    )
    frequency = forms.CharField(
        label=_("How often"), max_length=60, required=False, help_text=_("For example twice a day.")
    )


class AllergyRowForm(forms.Form):
    substance = forms.CharField(
        label=_("What are you allergic to?"),
        max_length=120,
        error_messages={"required": _("Say what you are allergic to, or remove this row.")},
    )
    reaction = forms.CharField(
        label=_("What happened"), max_length=200, required=False, help_text=_("For example hives.")
    )
    severity = forms.ChoiceField(
        label=_("How bad was it?"),
        choices=[
            (value, SEVERITY_LABELS.get(value, label)) for value, label in AllergySeverity.choices
        ],
        initial=AllergySeverity.UNKNOWN,
    )
    procedure_class = forms.ChoiceField(
        label=_("Is it one of these?"),
        choices=ALLERGY_CLASS_CHOICES,
        initial=ProcedureAllergyClass.NONE,
        required=False,
    )


class RowsFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": _("You can list at most %(num)d; call the clinic if you have more."),
        "missing_management_form": _("The page was incomplete; please fill it in again."),
    }


class RowsStep:
    """A step of repeatable rows (a formset of row forms): "Add another" and "Remove" are
    submit buttons, so no JavaScript is needed. Blank rows are left out."""

    step = ""
    template = "portal/intake/steps/rows.html"
    row_form: type[forms.Form] = forms.Form
    prefix = ""
    noun: "StrOrPromise" = ""
    service_key = ""

    def __init__(
        self,
        data=None,
        *,
        patient: Patient,
        draft: dict,
        add_row: bool = False,
        remove: int | None = None,
    ):
        self.patient = patient
        self.draft = draft
        self.section = draft.get(self.step)
        self.bound_by_patient = data is not None
        factory = formset_factory(
            self.row_form,
            formset=RowsFormSet,
            extra=0,
            max_num=MAX_ROWS,
            absolute_max=MAX_ROWS,
            validate_max=True,
        )
        blanks = 0
        if data is None:
            rows = list(self.section or [])
            blanks = 1 if (add_row or not rows) and len(rows) < MAX_ROWS else 0
            data = self._data_of(rows, blanks)
        elif remove is not None:
            probe = factory(data, prefix=self.prefix, form_kwargs={"label_suffix": ""})
            rows = self._raw_rows(probe)
            data = self._data_of(rows[:remove] + rows[remove + 1 :], 0)
        self.formset = factory(data, prefix=self.prefix, form_kwargs={"label_suffix": ""})
        self.new_row = len(self.formset.forms) - 1 if add_row and blanks else None
        if self.new_row is not None:
            row = self.formset.forms[self.new_row]
            next(iter(row.fields.values())).widget.attrs["autofocus"] = True
        self._kept: list[int] | None = None

    @classmethod
    def from_draft(cls, *, patient: Patient, draft: dict) -> "RowsStep":
        step = cls(patient=patient, draft=draft)
        step.bound_by_patient = True
        return step

    def _data_of(self, rows: list[dict], blanks: int) -> dict:
        """Rows as the POST data the formset reads (it is always bound, so a page shown
        again after an error and a page shown from the draft render the same way)."""
        data = {
            f"{self.prefix}-TOTAL_FORMS": str(len(rows) + blanks),
            f"{self.prefix}-INITIAL_FORMS": "0",
            f"{self.prefix}-MIN_NUM_FORMS": "0",
            f"{self.prefix}-MAX_NUM_FORMS": str(MAX_ROWS),
        }
        defaults = {name: field.initial or "" for name, field in self.row_form.base_fields.items()}
        for index, row in enumerate([*rows, *([{}] * blanks)]):
            for name, value in (defaults | row).items():
                data[f"{self.prefix}-{index}-{name}"] = "" if value is None else str(value)
        return data

    def _raw_rows(self, formset) -> list[dict]:
        return [
            {name: form.data.get(form.add_prefix(name), "") for name in form.fields}
            for form in formset.forms
        ]

    @property
    def rows(self):
        return self.formset.forms

    def is_valid(self) -> bool:
        return self.formset.is_valid()

    def kept(self) -> list[int]:
        """Indexes of the rows that are not blank (the service numbers only these)."""
        if self._kept is None:
            self._kept = [i for i, form in enumerate(self.formset.forms) if form.has_changed()]
        return self._kept

    def section_data(self) -> list[dict]:
        forms_ = self.formset.forms
        return [
            {k: v for k, v in forms_[i].cleaned_data.items() if v not in ("", None)}
            for i in self.kept()
        ]

    def add_service_errors(self, fields: dict) -> None:
        self.formset.is_valid()  # the forms' own errors first
        errors = fields.get(self.service_key) or {}
        if not isinstance(errors, dict):
            for message in _messages(errors):
                self.formset.non_form_errors().append(message)
            return
        kept = self.kept()
        for index, row_errors in errors.items():
            try:
                form = self.formset.forms[kept[int(index)]]
            except (ValueError, IndexError):
                self.formset.non_form_errors().extend(_messages(row_errors))
                continue
            if not isinstance(row_errors, dict):
                row_errors = {None: row_errors}
            for name, messages in row_errors.items():
                target = name if name in form.fields else None
                for message in _messages(messages):
                    form.add_error(target, message)

    def error_links(self) -> list[ErrorLink]:
        if not self.bound_by_patient:
            return []
        self.formset.is_valid()
        links = [ErrorLink(f"{self.prefix}-rows", str(e)) for e in self.formset.non_form_errors()]
        for index, form in enumerate(self.formset.forms):
            links += _field_links(form, prefix=f"{self.noun} {index + 1}: ")
        return links

    summary_title: "StrOrPromise" = ""
    name_key = ""

    def row_details(self, row: dict) -> list[str]:
        return []

    def summary(self) -> list[tuple[str, str]]:
        """One line per row for the review page: its name, then its details."""
        rows = self.section or []
        if not rows:
            return [(str(self.summary_title), gettext("None listed"))]
        return [
            (row.get(self.name_key, ""), "; ".join(p for p in self.row_details(row) if p))
            for row in rows
        ]


class MedicationsStep(RowsStep):
    step = "medications"
    row_form = MedicationRowForm
    prefix = "med"
    noun = _("Medicine")
    service_key = "medications"
    intro = _(
        "List every medicine you take, including blood thinners, aspirin, pain medicine, "
        "vitamins and injections. If you take none, leave the row blank."
    )

    summary_title = _("Medicines")
    name_key = "name"

    def row_details(self, row: dict) -> list[str]:
        return [row.get("dose", ""), row.get("frequency", "")]


class AllergiesStep(RowsStep):
    step = "allergies"
    row_form = AllergyRowForm
    prefix = "allergy"
    noun = _("Allergy")
    service_key = "allergies"
    intro = _(
        "List anything you are allergic to: medicines, X-ray dye, latex, skin cleansers, "
        "foods. A shellfish or iodine (Betadine) allergy is not an allergy to X-ray dye: "
        "list it, and choose “None of these”. If you have no allergies, leave the row blank."
    )

    summary_title = _("Allergies")
    name_key = "substance"

    def row_details(self, row: dict) -> list[str]:
        procedure_class = row.get("procedure_class")
        return [
            row.get("reaction", ""),
            str(SEVERITY_LABELS.get(row.get("severity", "unknown"), "")),
            _choice_label(ALLERGY_CLASS_CHOICES, procedure_class) if procedure_class else "",
        ]


# --- 5. Health conditions and implanted devices -------------------------------------------

CONDITION_LABELS = {
    ConditionKind.DIABETES: _("Diabetes"),
    ConditionKind.PREGNANCY: _("I am pregnant, or could be"),
    ConditionKind.ACTIVE_INFECTION: _("An infection now (for example of the skin, chest or urine)"),
    ConditionKind.BLEEDING_DISORDER: _("A bleeding disorder (for example haemophilia)"),
    ConditionKind.CANCER_HISTORY: _("Cancer, now or in the past"),
}
DEVICE_LABELS = {
    DeviceKind.PACEMAKER: _("Pacemaker"),
    DeviceKind.ICD: _("Implanted defibrillator (ICD)"),
    DeviceKind.SPINAL_CORD_STIMULATOR: _("Spinal cord stimulator"),
    DeviceKind.INTRATHECAL_PUMP: _("Pain pump in the spine (intrathecal pump)"),
    DeviceKind.PERIPHERAL_NERVE_STIMULATOR: _("Nerve stimulator (peripheral nerve stimulator)"),
}


class ConditionsForm(StepForm):
    step = "conditions"
    template = "portal/intake/steps/conditions.html"

    conditions = forms.MultipleChoiceField(
        label=_("Do any of these apply to you?"),
        help_text="Choose all that apply.",
        choices=list(CONDITION_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_conditions = forms.CharField(
        label=_("Other health conditions"),
        help_text=_("One per line, for example high blood pressure or asthma."),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    devices = forms.MultipleChoiceField(
        label=_("Do you have any of these devices implanted?"),
        help_text="Choose all that apply.",
        choices=list(DEVICE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_devices = forms.CharField(
        label=_("Other implanted devices"),
        help_text=_("One per line, with the maker and model if you know them."),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def initial_of(self, section) -> dict:
        section = section or {}
        conditions = section.get("conditions") or []
        devices = section.get("devices") or []
        return {
            "conditions": [c["kind"] for c in conditions if c.get("kind") in CONDITION_LABELS],
            "other_conditions": "\n".join(
                c.get("description", "")
                for c in conditions
                if c.get("kind") not in CONDITION_LABELS
            ),
            "devices": [d["kind"] for d in devices if d.get("kind") in DEVICE_LABELS],
            "other_devices": "\n".join(
                d.get("description", "") for d in devices if d.get("kind") not in DEVICE_LABELS
            ),
        }

    def section_data(self) -> dict:
        data = self.cleaned_data
        return {
            "conditions": [{"kind": kind} for kind in data["conditions"]]
            + [
                {"kind": ConditionKind.OTHER.value, "description": line}
                for line in _lines(data["other_conditions"])
            ],
            "devices": [{"kind": kind} for kind in data["devices"]]
            + [
                {"kind": DeviceKind.OTHER.value, "description": line}
                for line in _lines(data["other_devices"])
            ],
        }

    def service_errors_of(self, fields: dict) -> dict:
        errors: dict[str, list[str]] = {}
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return errors
        section = self.section_data()
        for key, other in (("conditions", "other_conditions"), ("devices", "other_devices")):
            entries = fields.get(key)
            if not entries:
                continue
            if not isinstance(entries, dict):
                errors.setdefault(key, []).extend(_messages(entries))
                continue
            for index, messages in entries.items():
                try:
                    entry = section[key][int(index)]
                except (ValueError, IndexError):
                    entry = {}
                if entry.get("kind") == "other":
                    target, prefix = other, f"“{entry.get('description', '')[:40]}”: "
                else:
                    target, prefix = key, ""
                errors.setdefault(target, []).extend(prefix + m for m in _messages(messages))
        return errors

    def summary(self) -> list[tuple[str, str]]:
        section = self.section or {}
        if not section:
            return []
        conditions = [
            str(CONDITION_LABELS.get(c.get("kind"), c.get("description", "")))
            for c in section.get("conditions", [])
        ]
        devices = [
            str(DEVICE_LABELS.get(d.get("kind"), d.get("description", "")))
            for d in section.get("devices", [])
        ]
        return [
            (gettext("Health conditions"), ", ".join(conditions) or gettext("None listed")),
            (gettext("Implanted devices"), ", ".join(devices) or gettext("None listed")),
        ]


# --- 6. Questionnaires --------------------------------------------------------------------

NRS_CHOICES = [
    (str(n), {0: _("0 (no pain)"), 10: _("10 (worst pain you can imagine)")}.get(n, str(n)))
    for n in range(11)
]
ZERO_TO_TEN = [
    (str(n), {0: _("0 (not at all)"), 10: _("10 (completely)")}.get(n, str(n))) for n in range(11)
]
# PEG (Krebs 2009), in our own words.
PEG_QUESTIONS = (
    ("pain", _("Your pain on average over the past week"), NRS_CHOICES),
    (
        "enjoyment",
        _("How much pain got in the way of enjoying life over the past week"),
        ZERO_TO_TEN,
    ),
    (
        "activity",
        _("How much pain got in the way of your daily activities over the past week"),
        ZERO_TO_TEN,
    ),
)
# PHQ-9 (Kroenke, Spitzer, Williams; free to use, no permission required).
PHQ9_QUESTIONS = (
    ("q1", _("Little interest or pleasure in doing things")),
    ("q2", _("Feeling down, depressed, or hopeless")),
    ("q3", _("Trouble falling or staying asleep, or sleeping too much")),
    ("q4", _("Feeling tired or having little energy")),
    ("q5", _("Poor appetite or overeating")),
    (
        "q6",
        _(
            "Feeling bad about yourself, or that you are a failure or have let yourself or "
            "your family down"
        ),
    ),
    (
        "q7",
        _("Trouble concentrating on things, such as reading the newspaper or watching television"),
    ),
    (
        "q8",
        _(
            "Moving or speaking so slowly that other people could have noticed; or the "
            "opposite, being so fidgety or restless that you have been moving around a lot "
            "more than usual"
        ),
    ),
    ("q9", _("Thoughts that you would be better off dead, or of hurting yourself in some way")),
)
PHQ_CHOICES = [
    ("0", _("Not at all")),
    ("1", _("Several days")),
    ("2", _("More than half the days")),
    ("3", _("Nearly every day")),
]
# The instruments asked here; the form field of an item is "<instrument>_<item>".
QUESTIONNAIRES = {
    "nrs": ("score",),
    "peg": tuple(key for key, _, _ in PEG_QUESTIONS),
    "phq9": tuple(key for key, _ in PHQ9_QUESTIONS),
}
OPTIONAL_QUESTIONNAIRES = {"peg": _("three pain questions"), "phq9": _("nine mood questions")}


def _radios(
    label: "StrOrPromise", choices, *, required: bool = False, **kwargs
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect, required=required, **kwargs
    )


class QuestionnairesForm(StepForm):
    step = "questionnaires"
    template = "portal/intake/steps/questionnaires.html"

    nrs_score = _radios(
        _("How bad is your pain right now?"),
        NRS_CHOICES,
        required=True,
        error_messages={"required": _("Choose a number from 0 to 10 for your pain right now.")},
    )
    nrs_body_region = forms.ChoiceField(
        label=_("Where is the pain you rated?"),
        choices=[("", _("Choose where")), *BodyRegion.choices],
        error_messages={"required": _("Choose where the pain you rated is.")},
    )

    def __init__(self, data=None, *, patient: Patient, draft: dict, **kwargs):
        super().__init__(data, patient=patient, draft=draft, **kwargs)
        for key, label, choices in PEG_QUESTIONS:
            self.fields[f"peg_{key}"] = _radios(label, choices)
        for key, label in PHQ9_QUESTIONS:
            self.fields[f"phq9_{key}"] = _radios(label, PHQ_CHOICES)
        if data is None and "nrs_body_region" not in self.initial:
            locations = (draft.get("pain") or {}).get("pain_locations") or []
            if locations:
                self.initial["nrs_body_region"] = locations[0]

    def group(self, instrument: str) -> list[forms.BoundField]:
        return [self[f"{instrument}_{item}"] for item in QUESTIONNAIRES[instrument]]

    @property
    def peg_fields(self) -> list[forms.BoundField]:
        return self.group("peg")

    @property
    def phq9_fields(self) -> list[forms.BoundField]:
        return self.group("phq9")

    def initial_of(self, section) -> dict:
        initial = {}
        for entry in section or []:
            instrument = entry.get("instrument")
            for item, value in (entry.get("items") or {}).items():
                initial[f"{instrument}_{item}"] = str(value)
            if instrument == "nrs":
                initial["nrs_body_region"] = entry.get("body_region", "")
        return initial

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for instrument, what in OPTIONAL_QUESTIONNAIRES.items():
            names = [f"{instrument}_{item}" for item in QUESTIONNAIRES[instrument]]
            answered = [name for name in names if data.get(name) not in (None, "")]
            if answered and len(answered) < len(names):
                for name in names:
                    if name not in answered and name not in self.errors:
                        self.add_error(
                            name,
                            gettext("Answer this one too, or leave all %(what)s blank.")
                            % {"what": what},
                        )
        return data

    def section_data(self) -> list[dict]:
        data = self.cleaned_data
        entries = []
        for instrument, items in QUESTIONNAIRES.items():
            answers = {
                item: int(data[f"{instrument}_{item}"])
                for item in items
                if data.get(f"{instrument}_{item}") not in (None, "")
            }
            if not answers:
                continue
            entry = {"instrument": instrument, "items": answers}
            if instrument == "nrs":
                entry["body_region"] = data["nrs_body_region"]
            entries.append(entry)
        return entries

    def service_errors_of(self, fields: dict) -> dict:
        entries = fields.get("assessments")
        if not entries:
            return {}
        if not isinstance(entries, dict) or not hasattr(self, "cleaned_data"):
            return {"__all__": _messages(entries)}
        section = self.section_data()
        errors: dict[str, list[str]] = {}
        for index, entry_errors in entries.items():
            try:
                instrument = section[int(index)]["instrument"]
            except (ValueError, IndexError, KeyError):
                errors.setdefault("__all__", []).extend(_messages(entry_errors))
                continue
            if not isinstance(entry_errors, dict):
                entry_errors = {"items": entry_errors}
            for key, messages in entry_errors.items():
                if key == "body_region":
                    errors.setdefault("nrs_body_region", []).extend(_messages(messages))
                elif key == "items" and isinstance(messages, dict):
                    for item, item_messages in messages.items():
                        name = f"{instrument}_{item}"
                        name = name if name in self.fields else "__all__"
                        errors.setdefault(name, []).extend(_messages(item_messages))
                else:
                    errors.setdefault("__all__", []).extend(_messages(messages))
        return errors

    def summary(self) -> list[tuple[str, str]]:
        rows = []
        entries = {entry.get("instrument"): entry for entry in self.section or []}
        nrs = entries.get("nrs")
        if nrs:
            region = _choice_label(BodyRegion.choices, nrs.get("body_region", ""))
            score = gettext("%(score)s out of 10 (%(region)s)") % {
                "score": nrs["items"].get("score"),
                "region": region,
            }
            rows.append((gettext("Pain right now"), score))
        peg = entries.get("peg")
        rows.append(
            (
                gettext("Pain over the past week (PEG)"),
                ", ".join(f"{peg['items'].get(k)}/10" for k, _label, _choices in PEG_QUESTIONS)
                if peg
                else gettext("Not answered"),
            )
        )
        rows.append(
            (
                gettext("Mood questions (PHQ-9)"),
                gettext("Answered") if "phq9" in entries else gettext("Not answered"),
            )
        )
        return rows


# --- 7. Safety questions (red flags, blood thinners) --------------------------------------

RED_FLAG_GROUPS = (
    (_("Injuries"), ("major_trauma", "minor_trauma_osteoporosis")),
    (
        _("Your general health"),
        (
            "cancer_history",
            "fever_or_chills",
            "unexplained_weight_loss",
            "recent_bacterial_infection",
            "iv_drug_use",
            "immunosuppression",
            "pain_worse_at_night_or_rest",
        ),
    ),
    (
        _("Numbness, bladder and legs"),
        ("saddle_anaesthesia", "new_bladder_dysfunction", "progressive_leg_weakness"),
    ),
)
YES_NO = [("yes", _("Yes")), ("no", _("No"))]
BLOOD_THINNER_LABELS: dict[str, "StrOrPromise"] = {
    "yes": _("Yes"),
    "no": _("No"),
    "not_sure": _("I'm not sure"),
}
# The choice for a blood thinner that is not in the list, or whose name the patient does
# not know; what they type beside it is kept as the name.
ANOTHER_BLOOD_THINNER = "another"
BLOOD_THINNER_FIELDS = ("blood_thinner", "blood_thinner_name", "blood_thinner_other")


class SafetyForm(StepForm):
    step = "safety"
    template = "portal/intake/steps/safety.html"

    def __init__(self, data=None, *, patient: Patient, draft: dict, **kwargs):
        super().__init__(data, patient=patient, draft=draft, **kwargs)
        for key, label in RED_FLAGS.items():
            self.fields[key] = _radios(
                gettext(label),
                YES_NO,
                required=True,
                error_messages={"required": gettext("Answer yes or no.")},
            )
        self.fields["blood_thinner"] = _radios(
            _("Do you take a blood thinner?"),
            [(key, BLOOD_THINNER_LABELS[key]) for key in BLOOD_THINNER_ANSWERS],
            required=True,
            help_text=_(
                "A medicine that keeps your blood from clotting, for example Eliquis, Xarelto, "
                "warfarin (Coumadin), Plavix, Lovenox or an aspirin every day."
            ),
            error_messages={"required": gettext("Answer yes, no or “I'm not sure”.")},
        )
        self.fields["blood_thinner_name"] = forms.ChoiceField(
            label=_("If yes: which one?"), choices=self._blood_thinner_options, required=False
        )
        self.fields["blood_thinner_other"] = forms.CharField(
            label=_("Its name, if it is not in the list"),
            help_text=_("Leave this blank if you do not know the name."),
            max_length=MEDICATION_NAME_LIMIT,
            required=False,
        )

    @cached_property
    def listed_blood_thinners(self) -> list[tuple[str, str]]:
        """The blood thinners of the drug vocabulary (read once, when first needed)."""
        return blood_thinner_choices()

    def _blood_thinner_options(self) -> list[tuple[str, "StrOrPromise"]]:
        return [
            ("", _("Choose one")),
            *self.listed_blood_thinners,
            (ANOTHER_BLOOD_THINNER, _("Another one, or I don't know its name")),
        ]

    def groups(self):
        grouped = {key for _, keys in RED_FLAG_GROUPS for key in keys}
        for legend, keys in RED_FLAG_GROUPS:
            yield legend, [self[key] for key in keys if key in RED_FLAGS]
        rest = [self[key] for key in RED_FLAGS if key not in grouped]
        if rest:
            yield gettext("Other"), rest

    def initial_of(self, section) -> dict:
        section = section or {}
        flags = section.get("red_flags") or {}
        initial = {key: "yes" if value else "no" for key, value in flags.items()}
        if section.get("blood_thinner"):
            name = section.get("blood_thinner_name", "")
            initial |= {
                "blood_thinner": section["blood_thinner"],
                "blood_thinner_name": name,
                "blood_thinner_other": name,
            }
        return initial

    def get_initial_for_field(self, field, field_name):
        """A saved blood thinner shows as its choice in the list, else under "Another one"
        with its name beside it (the list is read only when the page shows these fields)."""
        value = super().get_initial_for_field(field, field_name)
        if field_name not in BLOOD_THINNER_FIELDS[1:] or self.initial.get("blood_thinner") != "yes":
            return value
        listed = value in dict(self.listed_blood_thinners)
        if field_name == "blood_thinner_name":
            return value if listed else ANOTHER_BLOOD_THINNER
        return "" if listed else value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("blood_thinner") == "yes" and not data.get("blood_thinner_name"):
            self.add_error(
                "blood_thinner_name",
                gettext("Choose which one, or “Another one, or I don't know its name”."),
            )
        return data

    def section_data(self) -> dict:
        data = self.cleaned_data
        answer, choice = data["blood_thinner"], data["blood_thinner_name"]
        name = data["blood_thinner_other"].strip() if choice == ANOTHER_BLOOD_THINNER else choice
        return {
            "red_flags": {key: data[key] == "yes" for key in RED_FLAGS},
            "blood_thinner": answer,
            "blood_thinner_name": name if answer == "yes" else "",
        }

    def service_errors_of(self, fields: dict) -> dict:
        answers = fields.get("answers")
        if not isinstance(answers, dict):
            return {}
        errors: dict[str, Any] = {}
        flags = answers.get("red_flags")
        if flags:
            errors |= flags if isinstance(flags, dict) else {"__all__": _messages(flags)}
        for key, field_name in (
            ("blood_thinner", "blood_thinner"),
            ("blood_thinner_name", "blood_thinner_other"),
        ):
            if answers.get(key):
                errors[field_name] = answers[key]
        return errors

    def blood_thinner_answer(self, answer: str, name: str) -> str:
        """What the patient said about blood thinners, as the review page repeats it."""
        if answer != "yes":
            return str(BLOOD_THINNER_LABELS.get(answer, answer))
        if not name:
            return gettext("Yes (the name is not known)")
        shown = dict(self.listed_blood_thinners).get(name, name)
        return gettext("Yes: %(name)s") % {"name": shown}

    def summary(self) -> list[tuple[str, str]]:
        flags = (self.section or {}).get("red_flags")
        if not flags:
            return []
        positive = [
            gettext(RED_FLAGS[key]) for key, value in flags.items() if value and key in RED_FLAGS
        ]
        rows = [(gettext("You answered yes to"), "; ".join(positive) or gettext("None of them"))]
        section = self.section or {}
        if section.get("blood_thinner"):
            said = self.blood_thinner_answer(
                section["blood_thinner"], section.get("blood_thinner_name", "")
            )
            rows.append((gettext("Do you take a blood thinner?"), said))
        return rows


STEP_FORMS: dict[str, type[StepForm] | type[RowsStep]] = {
    "about": AboutForm,
    "pain": PainForm,
    "medications": MedicationsStep,
    "allergies": AllergiesStep,
    "conditions": ConditionsForm,
    "questionnaires": QuestionnairesForm,
    "safety": SafetyForm,
}
