from django import forms

from clinic.audit.models import AuditAction
from clinic.audit.selectors import AuditFilter
from clinic.core.bounds import EARLIEST_DATE
from patients.models import Patient

MRN_LENGTH = 8


class AuditSearchForm(forms.Form):
    mrn = forms.CharField(label="Patient MRN", required=False, max_length=MRN_LENGTH)
    user = forms.CharField(label="Username", required=False, max_length=150)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Reads and writes"), *AuditAction.choices]
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def clean_mrn(self) -> str:
        mrn = self.cleaned_data["mrn"].strip()
        if mrn and not (mrn.isdigit() and len(mrn) == MRN_LENGTH):
            raise forms.ValidationError("An MRN is 8 digits.")
        return mrn

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        for name in ("start", "end"):
            day = data.get(name)
            if day is not None and day < EARLIEST_DATE:
                self.add_error(name, f"Give a date from {EARLIEST_DATE:%Y} on.")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        return data

    def audit_filter(self) -> AuditFilter | None:
        """The filter asked for; None when the MRN names no patient (nothing can match)."""
        data = self.cleaned_data
        patient_id = None
        if data.get("mrn"):
            patient_id = (
                Patient.objects.filter(mrn=data["mrn"]).values_list("pk", flat=True).first()
            )
            if patient_id is None:
                return None
        return AuditFilter(
            patient_id=patient_id,
            username=data.get("user", "").strip(),
            action=data.get("action", ""),
            start=data.get("start"),
            end=data.get("end"),
        )
