"""CSV rows as calls of the domain services, through django-import-export: the library reads
the file and each column's value; a row is then matched (an existing record: not written
again), written by the service (the same rules as the pages), or refused with its field
errors. A refused row writes nothing: every service is one transaction."""

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from import_export import fields, instance_loaders, resources, widgets

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor
from patients.models import Patient
from patients.services import patient_create, patient_matches
from scheduling.localtime import to_aware
from scheduling.models import HOLDS_TIME, Appointment, AppointmentType
from scheduling.services.booking import appointment_book
from sites.models import Location, Provider, Room


class LookupWidget(widgets.ForeignKeyWidget):
    """A row's reference to a record by its natural key; an unknown key is the field's error."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(
                f"No {self.model._meta.verbose_name} with {self.field} {value!r}."
            ) from None


class ServiceResource(resources.Resource):
    """Rows are never saved by the library: `match` finds the record a row already is,
    `write` calls the service. Each row's instance is a namespace of its cleaned columns."""

    class Meta:
        force_init_instance = True
        instance_loader_class = instance_loaders.BaseInstanceLoader  # never used: rows are new
        skip_diff = True
        store_instance = True
        store_row_values = True
        report_skipped = True

    def __init__(self, *, by: Actor, on_row: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.by = by
        self.on_row = on_row

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        if self.on_row is not None:
            self.on_row(kwargs["row_number"])
        return row_result

    def init_instance(self, row: Any = None) -> SimpleNamespace:
        return SimpleNamespace(pk=None, matched=[], values={})

    def values(self, instance: SimpleNamespace) -> dict[str, Any]:
        """The row's cleaned columns as the service's arguments."""
        return {
            field.attribute: getattr(instance, field.attribute)
            for field in self.get_import_fields()
        }

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        if import_validation_errors:
            return False
        try:
            instance.values = self.values(instance)
            instance.matched = self.match(instance.values)
        except ValidationFailed as error:
            raise ValidationError(error.fields) from None
        return bool(instance.matched)

    def save_instance(self, instance, is_create, row, **kwargs) -> None:
        try:
            instance.pk = self.write(instance.values).pk
        except ValidationFailed as error:
            raise ValidationError(error.fields or error.detail) from None
        except (Conflict, Forbidden) as error:
            raise ValidationError(error.detail) from None

    def match(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def write(self, values: dict[str, Any]) -> models.Model:
        raise NotImplementedError


def _text(column: str) -> fields.Field:
    return fields.Field(
        attribute=column,
        column_name=column,
        widget=widgets.CharWidget(allow_blank=True),
        default="",
    )


PATIENT_REQUIRED_COLUMNS = ("legal_first_name", "legal_last_name", "date_of_birth")
PATIENT_OPTIONAL_COLUMNS = (
    "preferred_name",
    "sex",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "insurance_payer",
    "insurance_member_id",
    "insurance_group",
    "referring_physician_name",
    "referring_physician_phone",
    "referring_physician_npi",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
)


class PatientResource(ServiceResource):
    """A patient per row, created by patient_create unless duplicate detection (the one the
    intake uses, patients.services.duplicate_matches) finds the person already here."""

    legal_first_name = _text("legal_first_name")
    legal_last_name = _text("legal_last_name")
    date_of_birth = fields.Field(
        attribute="date_of_birth", column_name="date_of_birth", widget=widgets.DateWidget()
    )
    preferred_name = _text("preferred_name")
    sex = _text("sex")
    phone = _text("phone")
    email = _text("email")
    address_line1 = _text("address_line1")
    address_line2 = _text("address_line2")
    city = _text("city")
    state = _text("state")
    postal_code = _text("postal_code")
    insurance_payer = _text("insurance_payer")
    insurance_member_id = _text("insurance_member_id")
    insurance_group = _text("insurance_group")
    referring_physician_name = _text("referring_physician_name")
    referring_physician_phone = _text("referring_physician_phone")
    referring_physician_npi = _text("referring_physician_npi")
    emergency_contact_name = _text("emergency_contact_name")
    emergency_contact_relationship = _text("emergency_contact_relationship")
    emergency_contact_phone = _text("emergency_contact_phone")

    def values(self, instance: SimpleNamespace) -> dict[str, Any]:
        values = super().values(instance)
        if not values["sex"]:
            values.pop("sex")  # the model's default: unknown
        return values

    def match(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        if values["date_of_birth"] is None:
            raise ValidationFailed({"date_of_birth": ["A date of birth is needed."]})
        return [
            {"patient": str(found.pk), "reasons": reasons}
            for found, reasons in patient_matches(**values)
        ]

    def write(self, values: dict[str, Any]) -> Patient:
        return patient_create(by=self.by, **values)


APPOINTMENT_REQUIRED_COLUMNS = ("mrn", "appointment_type", "provider_npi", "location", "start")
APPOINTMENT_OPTIONAL_COLUMNS = ("room",)
START_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%m/%d/%Y %H:%M")


def local_start(text: str) -> datetime:
    for pattern in START_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern)  # noqa: DTZ007  # wall-clock time at the location
        except ValueError:
            continue
    raise ValueError("Give the start as YYYY-MM-DD HH:MM, in the location's local time.")


class AppointmentResource(ServiceResource):
    """An upcoming visit per row, booked by appointment_book (the same rules as the desk);
    a visit already booked for the patient at that time with that provider is matched."""

    mrn = fields.Field(
        attribute="patient", column_name="mrn", widget=LookupWidget(Patient, field="mrn")
    )
    appointment_type = fields.Field(
        attribute="appointment_type",
        column_name="appointment_type",
        widget=LookupWidget(AppointmentType, field="code"),
    )
    provider_npi = fields.Field(
        attribute="provider", column_name="provider_npi", widget=LookupWidget(Provider, field="npi")
    )
    location = fields.Field(
        attribute="location", column_name="location", widget=LookupWidget(Location, field="code")
    )
    start = _text("start")
    room = _text("room")

    def values(self, instance: SimpleNamespace) -> dict[str, Any]:
        values = super().values(instance)
        missing = [
            name
            for name in ("patient", "appointment_type", "provider", "location")
            if values[name] is None
        ]
        if missing:
            raise ValidationFailed({name: ["This field is required."] for name in missing})
        location: Location = values["location"]
        try:
            values["start"] = to_aware(local_start(values["start"]), location.zone)
        except ValueError as error:
            raise ValidationFailed({"start": [str(error)]}) from None
        values["room"] = self.room_named(location, values["room"])
        return values

    def room_named(self, location: Location, name: str) -> Room | None:
        if not name:
            return None
        room = Room.objects.filter(location=location, name=name).first()
        if room is None:
            raise ValidationFailed({"room": [f"No room {name!r} at this location."]})
        return room

    def match(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        booked = Appointment.objects.filter(
            patient=values["patient"],
            provider=values["provider"],
            start=values["start"],
            status__in=HOLDS_TIME,
        ).values_list("pk", flat=True)
        return [
            {
                "patient": str(values["patient"].pk),
                "appointment": str(pk),
                "reasons": ["already booked"],
            }
            for pk in booked
        ]

    def write(self, values: dict[str, Any]) -> Appointment:
        return appointment_book(by=self.by, **values)
