"""HL7 v2.5.1 SIU messages (chapter 10, Scheduling) about a visit, as the text sent to the
practice-management system: MSH, SCH, TQ1, PID, PV1, then one resource group (RGS) with the
service (AIS), the room (AIL) and the provider (AIP). The visit's id is its calendar_uid,
which a reschedule carries to the new row, so a receiver sees one appointment move.

Segment and field positions after HL7 v2.5.1 (SIU_S12 structure; SCH, TQ1, RGS, AIS, AIL,
AIP segment tables; HL7 tables 0276, 0278). Fields are escaped as section 2.7 says; times
are the location's wall clock with its UTC offset."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from notifications.models import MessageKind

from .models import Appointment, AppointmentStatus

VERSION = "2.5.1"


@dataclass(frozen=True)
class SiuEvent:
    trigger: str  # S12 ...
    kind: str  # the outbox kind
    reason: str  # SCH-6, event reason
    action: str  # RGS-2 / AIx-2 segment action code: A add, U update


BOOKED = SiuEvent("S12", MessageKind.SIU_S12, "Booked", "A")
RESCHEDULED = SiuEvent("S13", MessageKind.SIU_S13, "Rescheduled", "U")
MODIFIED = SiuEvent("S14", MessageKind.SIU_S14, "Modified", "U")
CANCELLED = SiuEvent("S15", MessageKind.SIU_S15, "Cancelled", "U")
NO_SHOW = SiuEvent("S26", MessageKind.SIU_S26, "No-show", "U")

# SCH-25 / AIx filler status code, HL7 table 0278.
FILLER_STATUS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.CHECKED_IN: "Started",
    AppointmentStatus.IN_ROOM: "Started",
    AppointmentStatus.COMPLETED: "Complete",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "Noshow",
}
SEX = {"female": "F", "male": "M", "other": "O", "unknown": "U"}
ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}


def esc(value: object) -> str:
    """A value as one HL7 component: delimiters escaped, line breaks made spaces."""
    text = "" if value is None else str(value)
    text = "".join(ESCAPES.get(char, char) for char in text)
    return " ".join(text.splitlines())


def components(*values: object) -> str:
    return "^".join(esc(value) for value in values).rstrip("^")


def segment(name: str, *fields: str) -> str:
    return "|".join((name, *fields)).rstrip("|")


def hl7_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y%m%d%H%M%S%z")


def filler_status(appointment: Appointment) -> str:
    if appointment.status == AppointmentStatus.BOOKED and appointment.overbooked:
        return "Overbook"
    return FILLER_STATUS[AppointmentStatus(appointment.status)]


def siu_message(appointment: Appointment, event: SiuEvent, *, control_id: str, at: datetime) -> str:
    """The whole message, segments joined by carriage returns."""
    zone = appointment.location.zone
    segments = [
        _msh(event, control_id, hl7_time(at, zone)),
        _sch(appointment, event, zone),
        _tq1(appointment, zone),
        _pid(appointment),
        _pv1(appointment),
        segment("RGS", "1", event.action),
        _ais(appointment, event, zone),
        _ail(appointment, event, zone),
        _aip(appointment, event, zone),
    ]
    return "\r".join(segments)


def _msh(event: SiuEvent, control_id: str, stamp: str) -> str:
    return "MSH|^~\\&|" + "|".join(
        [
            esc(settings.HL7_SENDING_APPLICATION),
            esc(settings.HL7_SENDING_FACILITY),
            esc(settings.HL7_RECEIVING_APPLICATION),
            esc(settings.HL7_RECEIVING_FACILITY),
            stamp,
            "",
            f"SIU^{event.trigger}^SIU_S12",
            control_id,
            esc(settings.HL7_PROCESSING_ID),
            VERSION,
            "",
            "",
            "",
            "",
            "",
            "UNICODE UTF-8",
        ]
    )


def visit_identifier(appointment: Appointment) -> str:
    return components(appointment.calendar_uid, settings.HL7_SENDING_APPLICATION)


def _minutes(appointment: Appointment) -> int:
    return int((appointment.end - appointment.start).total_seconds() // 60)


def _sch(appointment: Appointment, event: SiuEvent, zone: ZoneInfo) -> str:
    start, end = hl7_time(appointment.start, zone), hl7_time(appointment.end, zone)
    kind = appointment.appointment_type
    return segment(
        "SCH",
        visit_identifier(appointment),  # 1 placer appointment id: we place and fill it
        visit_identifier(appointment),  # 2 filler appointment id
        "",
        "",
        "",
        components(event.trigger, event.reason),  # 6 event reason
        components(kind.code, kind.name, "L"),  # 7 appointment reason (local code)
        "Normal",  # 8 appointment type, table 0277
        str(_minutes(appointment)),  # 9 duration
        "min",  # 10 units
        f"^^^{start}^{end}",  # 11 timing quantity (kept for v2.3-era receivers)
        "",
        "",
        "",
        "",
        _provider_xcn(appointment),  # 16 filler contact person
        esc(appointment.location.phone),  # 17 filler contact phone
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        filler_status(appointment),  # 25 filler status code, table 0278
    )


def _tq1(appointment: Appointment, zone: ZoneInfo) -> str:
    start, end = hl7_time(appointment.start, zone), hl7_time(appointment.end, zone)
    return segment("TQ1", "1", "", "", "", "", f"{_minutes(appointment)}^min", start, end)


def _pid(appointment: Appointment) -> str:
    patient = appointment.patient
    return segment(
        "PID",
        "1",
        "",
        components(patient.mrn, "", "", settings.HL7_SENDING_FACILITY, "MR"),  # 3
        "",
        components(patient.legal_last_name, patient.legal_first_name),  # 5 legal name
        "",
        patient.date_of_birth.strftime("%Y%m%d"),  # 7
        SEX.get(patient.sex, "U"),  # 8
        "",
        "",
        components(  # 11 address
            patient.address_line1,
            patient.address_line2,
            patient.city,
            patient.state,
            patient.postal_code,
            "USA" if patient.city else "",
        ),
        "",
        components("", "PRN", "PH", "", "", "", "", "", "", "", "", patient.phone)
        if patient.phone
        else "",  # 13 home phone, the number in component 12 (unformatted telephone)
    )


def _pv1(appointment: Appointment) -> str:
    location = appointment.location
    room = appointment.room.name if appointment.room else ""
    return segment(
        "PV1",
        "1",
        "O",  # 2 outpatient
        components(location.code, room, "", location.name),  # 3 assigned location
        "",
        "",
        "",
        _provider_xcn(appointment),  # 7 attending doctor
    )


def _provider_xcn(appointment: Appointment) -> str:
    provider = appointment.provider
    return components(
        provider.npi or provider.pk,
        provider.last_name,
        provider.first_name,
        "",
        "",
        "",
        provider.credentials,
        "",
        "NPI" if provider.npi else settings.HL7_SENDING_APPLICATION,
    )


def _timing(appointment: Appointment, zone: ZoneInfo) -> list[str]:
    """Start, offset, offset units, duration, units, substitution (AIx-6..11 / AIS-4..9)."""
    return [hl7_time(appointment.start, zone), "", "", str(_minutes(appointment)), "min", ""]


def _ais(appointment: Appointment, event: SiuEvent, zone: ZoneInfo) -> str:
    order = appointment.procedure_order
    service = order.procedure_type if order is not None else appointment.appointment_type
    return segment(
        "AIS",
        "1",
        event.action,
        components(service.code, service.name, "L"),  # 3 universal service identifier
        *_timing(appointment, zone),
        filler_status(appointment),  # 10
    )


def _ail(appointment: Appointment, event: SiuEvent, zone: ZoneInfo) -> str:
    location, room = appointment.location, appointment.room
    return segment(
        "AIL",
        "1",
        event.action,
        components(location.code, room.name if room else "", "", location.name),  # 3
        esc(room.kind) if room else "",  # 4 location type
        "",
        *_timing(appointment, zone),
        filler_status(appointment),  # 12
    )


def _aip(appointment: Appointment, event: SiuEvent, zone: ZoneInfo) -> str:
    return segment(
        "AIP",
        "1",
        event.action,
        _provider_xcn(appointment),  # 3 personnel resource
        esc(appointment.provider.kind),  # 4 resource type
        "",
        *_timing(appointment, zone),
        filler_status(appointment),  # 12
    )
