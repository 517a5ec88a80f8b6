"""Forms of the staff pages. They only parse input; every rule lives in services.py."""

from django import forms
from django.db.models import Q

from clinic.core.db import max_length
from clinic.core.errors import ValidationFailed
from clinic.core.forms import choice_field, model_choice_field
from sites.models import Location

from .models import (
    ContactChannel,
    DrugClass,
    Indication,
    LabKind,
    Language,
    Patient,
    PatientStatus,
    Payer,
    Sex,
)

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]

# (legend, fields) in the order the form shows them; together they are DEMOGRAPHIC_FIELDS.
PATIENT_FIELDSETS = (
    (
        "Name and birth",
        ("legal_first_name", "legal_last_name", "preferred_name", "date_of_birth", "sex"),
    ),
    (
        "Contact and consent",
        ("phone", "email", "preferred_channel", "consent_sms", "consent_email", "language"),
    ),
    ("Address", ("address_line1", "address_line2", "city", "state", "postal_code")),
    (
        "Emergency contact",
        (
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
        ),
    ),
    ("Insurance", ("insurance_payer", "payer", "insurance_member_id", "insurance_group")),
    (
        "Referring physician",
        ("referring_physician_name", "referring_physician_phone", "referring_physician_npi"),
    ),
    ("Clinic", ("home_location", "status", "needs_verification")),
)


def _max(name: str) -> int:
    return max_length(Patient, name)


def _text(label: str, name: str, *, required: bool = False, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=_max(name),
        required=required,
        widget=forms.TextInput(attrs=attrs),
    )


def _phone(label: str) -> forms.CharField:
    # Normalised (and refused when impossible) by the service; the form takes any text.
    return forms.CharField(
        label=label,
        max_length=32,
        required=False,
        help_text="For example (919) 555-0123.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class PatientForm(forms.Form):
    """The demographic fields of services.DEMOGRAPHIC_FIELDS, grouped in fieldsets.

    Editing shows each field's value as it was when the page was drawn (hidden initial
    inputs), so `changed_data` names only what this user changed, even when someone else
    saved the record in the meantime.
    """

    legal_first_name = _text("Legal first name", "legal_first_name", required=True)
    legal_last_name = _text("Legal last name", "legal_last_name", required=True)
    preferred_name = _text("Preferred name", "preferred_name")
    date_of_birth = forms.DateField(
        label="Date of birth",
        input_formats=DATE_INPUT_FORMATS,
        help_text="YYYY-MM-DD or MM/DD/YYYY.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, initial=Sex.UNKNOWN)

    phone = _phone("Phone")
    email = forms.EmailField(label="Email", max_length=_max("email"), required=False)
    preferred_channel = forms.ChoiceField(
        label="Preferred way to reach them",
        choices=ContactChannel.choices,
        initial=ContactChannel.SMS,
    )
    consent_sms = forms.BooleanField(label="Consents to text messages", required=False)
    consent_email = forms.BooleanField(label="Consents to email", required=False)
    language = forms.TypedChoiceField(
        label="Language of pages and messages",
        choices=Language.choices,
        initial=Language.ENGLISH,
        required=False,
        empty_value=Language.ENGLISH,
    )

    address_line1 = _text("Address line 1", "address_line1")
    address_line2 = _text("Address line 2", "address_line2")
    city = _text("City", "city")
    state = _text("State", "state")
    postal_code = _text("ZIP code", "postal_code")

    emergency_contact_name = _text("Name", "emergency_contact_name")
    emergency_contact_relationship = _text("Relationship", "emergency_contact_relationship")
    emergency_contact_phone = _phone("Phone")

    insurance_payer = _text("Insurance company (as on the card)", "insurance_payer")
    payer = forms.ModelChoiceField(
        label="Payer",
        queryset=Payer.objects.none(),
        required=False,
        empty_label="Unknown (Medicare LCD rules)",
        help_text="Its rules decide the procedure frequency limits the safety check applies.",
    )
    insurance_member_id = _text("Member ID", "insurance_member_id")
    insurance_group = _text("Group number", "insurance_group")

    referring_physician_name = _text("Name", "referring_physician_name")
    referring_physician_phone = _phone("Phone")
    referring_physician_npi = _text(
        "NPI", "referring_physician_npi", inputmode="numeric", autocomplete="off"
    )

    home_location = forms.ModelChoiceField(
        label="Home location",
        queryset=Location.objects.none(),
        required=False,
        empty_label="No home location",
    )
    status = forms.ChoiceField(
        label="Status", choices=PatientStatus.choices, initial=PatientStatus.ACTIVE
    )
    needs_verification = forms.BooleanField(
        label="Needs verification by the front desk", required=False
    )

    def __init__(self, *args, patient: Patient | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if patient is not None:
            kwargs.setdefault("initial", _initial_of(patient))
        super().__init__(*args, **kwargs)
        self.patient = patient
        locations = Q(is_active=True)
        if patient is not None and patient.home_location_id:
            locations |= Q(pk=patient.home_location_id)
        model_choice_field(self, "home_location").queryset = Location.objects.filter(locations)
        payers = Q(is_active=True)
        if patient is not None and patient.payer_id:
            payers |= Q(pk=patient.payer_id)
        model_choice_field(self, "payer").queryset = Payer.objects.filter(payers)
        self.fields["state"].widget.attrs.update(size=2, autocomplete="address-level1")
        if patient is not None:
            for field in self.fields.values():
                field.show_hidden_initial = True

    def fieldsets(self):
        for legend, names in PATIENT_FIELDSETS:
            yield legend, [self[name] for name in names]

    def changes(self) -> dict:
        """The cleaned values of the fields this user changed."""
        return {name: self.cleaned_data[name] for name in self.changed_data}

    def add_service_errors(self, error: ValidationFailed) -> None:
        add_service_errors(self, error)


def _initial_of(patient: Patient) -> dict:
    names = set(PatientForm.base_fields) - {"home_location", "payer"}
    return {name: getattr(patient, name) for name in names} | {
        "home_location": patient.home_location_id,  # the id: no query for the location
        "payer": patient.payer_id,
    }


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {m}" for key, inner in value.items() for m in _messages(inner)]
    if isinstance(value, list | tuple):
        return [m for inner in value for m in _messages(inner)]
    return [str(value)]


def add_service_errors(form: forms.Form, error: ValidationFailed) -> None:
    """Put a service's field errors next to the form's fields (unknown ones on top)."""
    for field, messages in error.fields.items():
        target = field if field in form.fields else None
        for message in _messages(messages):
            form.add_error(target, message)
    if not error.fields:
        form.add_error(None, error.detail)


class DecisionForm(forms.Form):
    """One intake item: accept or reject, a note, and whether to replace a changed value."""

    decision = forms.ChoiceField(choices=(("accept", "Accept"), ("reject", "Reject")))
    note = forms.CharField(label="Note (optional)", max_length=300, required=False)
    overwrite = forms.BooleanField(required=False)


class MergeForm(forms.Form):
    """Which of the two records stays, and an explicit confirmation."""

    survivor = forms.ChoiceField(label="Keep this record", widget=forms.RadioSelect)
    confirm = forms.BooleanField(
        label="I have checked these are the same person. Everything on the other record "
        "moves to the one kept; the other record becomes inactive.",
        error_messages={"required": "Tick this box to confirm the merge."},
    )

    def __init__(self, *args, candidate, **kwargs):
        kwargs.setdefault("prefix", f"merge-{candidate.pk}")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.candidate = candidate
        choice_field(self, "survivor").choices = [
            (str(p.pk), f"{p.legal_last_name}, {p.legal_first_name} (MRN {p.mrn})")
            for p in (candidate.patient, candidate.match)
        ]

    def survivor_and_merged(self):
        first, second = self.candidate.patient, self.candidate.match
        if self.cleaned_data["survivor"] == str(first.pk):
            return first, second
        return second, first


# --- Medications and labs on the chart ------------------------------------------------------


class MedicationForm(forms.Form):
    """A medication as typed; a listed name takes its generic(s) and class(es) from the
    drug vocabulary, an unknown one waits for a clinician to classify it."""

    name = forms.CharField(
        label="Medication", max_length=120, help_text="Brand, combination or generic name."
    )
    dose = forms.CharField(label="Dose", max_length=60, required=False)
    frequency = forms.CharField(label="How often", max_length=60, required=False)
    indication = forms.ChoiceField(
        label="Indication",
        choices=Indication.choices,
        required=False,
        help_text="Aspirin: primary or secondary prevention; enoxaparin: the dose.",
    )
    start_date = forms.DateField(
        label="Started",
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ClassifyForm(forms.Form):
    drug_class = forms.ChoiceField(
        label="Class", choices=[c for c in DrugClass.choices if c[0] != DrugClass.UNCLASSIFIED]
    )
    generics = forms.CharField(
        label="Generic name(s)",
        max_length=200,
        required=False,
        help_text="Separate components of a combination with +.",
    )

    def generic_list(self) -> list[str]:
        return [g.strip() for g in self.cleaned_data.get("generics", "").split("+") if g.strip()]


class LabForm(forms.Form):
    kind = forms.ChoiceField(label="Lab", choices=LabKind.choices)
    value = forms.DecimalField(label="Value", max_digits=8, decimal_places=2, min_value=0)
    taken_on = forms.DateField(
        label="Taken on",
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(label="Notes", max_length=300, required=False)
