"""Forms of the front desk's pages. They only parse input; every rule lives in services.py.

Times come from `<input type="datetime-local">` and stay naive here: the view reads them in
the location's zone with localtime.to_aware (Django's DateTimeField would read them in the
server's zone instead).
"""

from datetime import datetime
from uuid import UUID

from django import forms

from clinic.core.bounds import validate_sane_date
from clinic.core.forms import model_choice_field
from sites.models import Provider, Room

from .models import AppointmentType

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


SLOT_SEPARATOR = "|"


def slot_value(provider_id, room_id, start: datetime) -> str:
    """One offered slot as a radio button's value: provider, room ("-" for none), UTC start."""
    return SLOT_SEPARATOR.join([str(provider_id), str(room_id or "-"), start.isoformat()])


class SlotField(forms.CharField):
    """An offered slot chosen from availability's list: (provider id, room id or None, start)."""

    default_error_messages = {"invalid": "Choose one of the offered times."}

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        parts = text.split(SLOT_SEPARATOR)
        try:
            provider, room, start = parts
            start_at = datetime.fromisoformat(start)
            provider_id = UUID(provider)
            room_id = None if room == "-" else UUID(room)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if start_at.tzinfo is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return provider_id, room_id, start_at


class BookForm(forms.Form):
    """The desk's booking page, one form through its steps: find the patient (`q`, then a
    `patient` from the results), the kind of visit (a procedure: one of the patient's
    authorized `order`s), an optional provider, a `day`, then one offered `slot`. Overbooking
    (a typed time, for the roles the booking policy allows) has its own fields. Nothing here
    decides what may be booked: the service does."""

    q = forms.CharField(label="Find the patient", max_length=100, required=False)
    patient = forms.UUIDField(
        label="Patient",
        required=False,
        error_messages={"invalid": "Find the patient and choose them."},
    )
    appointment_type = forms.ModelChoiceField(
        label="Kind of visit",
        queryset=AppointmentType.objects.none(),
        required=False,
        empty_label=None,
    )
    order = forms.UUIDField(label="Procedure order", required=False)
    provider = forms.ModelChoiceField(
        label="Provider",
        queryset=Provider.objects.none(),
        required=False,
        empty_label="Any provider",
    )
    day = forms.DateField(
        label="Day",
        required=False,
        validators=[validate_sane_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    slot = SlotField(label="Offered times", required=False)
    overbook_start = LocalDateTimeField(label="Start", required=False)
    overbook_provider = forms.ModelChoiceField(
        label="Provider", queryset=Provider.objects.none(), required=False
    )
    overbook_room = forms.ModelChoiceField(
        label="Room", queryset=Room.objects.none(), required=False, empty_label="No room"
    )
    overbook_reason = forms.CharField(
        label="Reason for overbooking", max_length=300, required=False
    )
    overbook_confirmed = forms.BooleanField(label="Yes, book it at this time", required=False)

    def __init__(self, *args, location, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        model_choice_field(self, "appointment_type").queryset = AppointmentType.objects.filter(
            is_active=True
        )
        providers = Provider.objects.filter(is_active=True, locations=location)
        model_choice_field(self, "provider").queryset = providers
        model_choice_field(self, "overbook_provider").queryset = providers
        model_choice_field(self, "overbook_room").queryset = Room.objects.filter(
            is_active=True, location=location
        )
        self.fields[
            "overbook_start"
        ].help_text = f"In {location.name}'s local time ({location.time_zone})."
