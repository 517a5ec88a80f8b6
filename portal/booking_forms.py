from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.core.forms import choice_field, model_choice_field
from patients.forms import add_service_errors
from scheduling.models import AppointmentKind, AppointmentType
from sites.models import Location, Provider

from . import booking


class BookStartForm(forms.Form):
    """What to book and where; the times come on the next page."""

    what = forms.ChoiceField(label=_("What would you like to book?"), widget=forms.RadioSelect)
    location = forms.ModelChoiceField(
        label=_("Where"), queryset=Location.objects.none(), empty_label=_("Choose a clinic")
    )
    provider = forms.ModelChoiceField(
        label=_("With whom (optional)"),
        queryset=Provider.objects.none(),
        required=False,
        empty_label=_("Anyone available"),
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = booking.booking_choices(patient)
        choice_field(self, "what").choices = [(c.value, c.label) for c in self.choices]
        model_choice_field(self, "location").queryset = booking.locations()
        model_choice_field(self, "provider").queryset = Provider.objects.filter(
            is_active=True
        ).order_by("last_name")
        home = patient.home_location
        if home is not None and home.is_active:  # the patient's own clinic, preselected
            self.initial.setdefault("location", home.pk)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        location, provider = cleaned.get("location"), cleaned.get("provider")
        if location and provider and not provider.locations.filter(pk=location.pk).exists():
            self.add_error(
                "provider",
                gettext("%(provider)s does not work at %(place)s.")
                % {"provider": provider.display_name, "place": location.name},
            )
        return cleaned

    def query(self) -> dict:
        data = self.cleaned_data
        query = {"what": data["what"], "location": str(data["location"].pk)}
        if data.get("provider"):
            query["provider"] = str(data["provider"].pk)
        return query


class VisitKindField(forms.ModelChoiceField):
    """A kind of visit, named in the patient's language."""

    def label_from_instance(self, obj: AppointmentType) -> str:
        return obj.localized_name


class WaitlistForm(forms.Form):
    appointment_type = VisitKindField(
        label=_("Kind of visit"), queryset=AppointmentType.objects.none(), empty_label=None
    )
    location = forms.ModelChoiceField(
        label=_("Clinic (optional)"),
        queryset=Location.objects.none(),
        required=False,
        empty_label=_("Any clinic"),
    )
    earliest = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    latest = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, patient, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault("initial", {"earliest": today, "latest": today + timedelta(days=28)})
        super().__init__(*args, **kwargs)
        model_choice_field(self, "appointment_type").queryset = (
            AppointmentType.objects.filter(patient_bookable=True, is_active=True)
            .exclude(kind=AppointmentKind.PROCEDURE)
            .order_by("name")
        )
        model_choice_field(self, "location").queryset = booking.locations()

    def service_fields(self) -> dict:
        return dict(self.cleaned_data)

    def add_service_errors(self, error) -> None:
        add_service_errors(self, error)
