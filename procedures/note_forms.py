"""Forms of the consent and procedure-note pages. They parse input; the rules are in
procedures/consent.py and procedures/notes.py."""

from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from clinic.core.forms import choice_field

from .forms import FocusingForm, LocalDateTimeField, NonexistentTime, in_zone, nonexistent_message
from .models import NOTE_SECTIONS, ConsentGiver, ProcedureOrder

NOTE_ACTIONS = ("save", "sign")


class ConsentForm(FocusingForm):
    """The consent a clinician took: the risks come from the procedure's catalog entry."""

    risks_discussed = forms.MultipleChoiceField(
        label="Risks discussed",
        widget=forms.CheckboxSelectMultiple,
        help_text="From the procedure's catalog entry; tick each one you discussed.",
    )
    other_risks = forms.CharField(
        label="Other risks or concerns discussed",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    alternatives_discussed = forms.BooleanField(
        label="Alternatives discussed (including no procedure)", required=False
    )
    questions_answered = forms.BooleanField(
        label="The patient's questions answered", required=False
    )
    given_by = forms.ChoiceField(
        label="Consent given by", choices=ConsentGiver.choices, initial=ConsentGiver.PATIENT
    )
    representative_name = forms.CharField(
        label="Representative's name", required=False, max_length=120
    )
    representative_relationship = forms.CharField(
        label="Relationship to the patient", required=False, max_length=60
    )
    obtained_at = LocalDateTimeField(
        label="Consent taken at", required=False, help_text="Local time; leave empty for now."
    )

    def __init__(self, *args: Any, order: ProcedureOrder, zone_name: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name
        risks = order.procedure_type.consent_risks
        choice_field(self, "risks_discussed").choices = [(risk, risk) for risk in risks]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        naive = cleaned.get("obtained_at")
        if naive is not None and naive.tzinfo is None:
            try:
                cleaned["obtained_at"], _ = in_zone(naive, ZoneInfo(self.zone_name))
            except NonexistentTime:
                self.add_error("obtained_at", nonexistent_message(naive, self.zone_name))
        return cleaned


class NoteForm(FocusingForm):
    """The note's sections, each prefilled, and what to do with them: save or sign."""

    consent_override_reason = forms.CharField(
        label="Reason for signing without a consent on record",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when no consent was recorded before the procedure.",
    )
    # Set by the button pressed ("Save the draft" or "Sign and lock"); never rendered.
    action = forms.ChoiceField(choices=[(a, a) for a in NOTE_ACTIONS], required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)
        sections = {
            name: forms.CharField(
                label=heading,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                strip=True,
            )
            for name, heading in NOTE_SECTIONS
        }
        self.fields = {**sections, **self.fields}

    def section_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _ in NOTE_SECTIONS]

    def sections(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name, _ in NOTE_SECTIONS}


class AddendumForm(FocusingForm):
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label="Why the note is amended", max_length=300)

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "addendum_%s")
        super().__init__(*args, **kwargs)
