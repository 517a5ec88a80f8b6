"""Forms of the front desk's pages. They only parse input; every rule lives in services.py.

Times come from `<input type="datetime-local">` and stay naive here: the view reads them in
the location's zone with localtime.to_aware (Django's DateTimeField would read them in the
server's zone instead).
"""

from datetime import datetime

from django import forms

from clinic.core.forms import model_choice_field
from sites.models import Provider, Room

from .models import AppointmentKind, AppointmentType

LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class LocalDateTimeField(forms.Field):
    """A wall-clock date and time without a zone (naive datetime)."""

    widget = LocalDateTimeInput
    default_error_messages = {"invalid": "Enter a date and time, for example 2030-05-14 09:30."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()
        for pattern in LOCAL_INPUT_FORMATS:
            try:
                return datetime.strptime(text, pattern)  # noqa: DTZ007 - wall clock, zoned by the caller
            except ValueError:
                continue
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class MoveForm(forms.Form):
    """Check in, in room, complete, no-show or cancel (the service wants a reason for that)."""

    to = forms.CharField(max_length=12)
    reason = forms.CharField(label="Reason", max_length=300, required=False)


class RescheduleForm(forms.Form):
    start = LocalDateTimeField(label="New start")


class BookForm(forms.Form):
    """Book a visit at one location. `patient` is chosen from the search results the page
    shows as radio buttons (the template draws them; no list of every patient here)."""

    patient = forms.UUIDField(
        label="Patient", error_messages={"required": "Find the patient and choose them."}
    )
    appointment_type = forms.ModelChoiceField(
        label="Appointment type",
        queryset=AppointmentType.objects.none(),
        help_text="Procedures are booked from their procedure order.",
    )
    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.none())
    room = forms.ModelChoiceField(
        label="Room (optional)", queryset=Room.objects.none(), required=False
    )
    start = LocalDateTimeField(label="Start", help_text="In the location's local time.")

    def __init__(self, *args, location, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        model_choice_field(self, "appointment_type").queryset = AppointmentType.objects.filter(
            is_active=True
        ).exclude(kind=AppointmentKind.PROCEDURE)
        model_choice_field(self, "provider").queryset = Provider.objects.filter(
            is_active=True, locations=location
        )
        model_choice_field(self, "room").queryset = Room.objects.filter(
            is_active=True, location=location
        )
        self.fields["start"].help_text = f"In {location.name}'s local time ({location.time_zone})."
