"""Which channel a message may use, and when: the patient's consent and address, and the
quiet hours for texts in the location's zone."""

from datetime import datetime

from patients.models import ContactChannel

from .clock import after_quiet_hours
from .models import Channel

NO_CHANNEL = "No consented channel: the patient has no text or email we may use."


def choose_channel(patient) -> str | None:
    """The patient's preferred channel if they consented to it and we have the address;
    else the other consented one; None if there is none (staff then phone)."""
    usable = []
    if patient.consent_sms and patient.phone:
        usable.append(Channel.SMS)
    if patient.consent_email and patient.email:
        usable.append(Channel.EMAIL)
    preferred = {ContactChannel.SMS: Channel.SMS, ContactChannel.EMAIL: Channel.EMAIL}.get(
        patient.preferred_channel
    )
    if preferred in usable:
        return preferred
    return usable[0] if usable else None


def earliest_send(*, channel: str, due_at: datetime, location, policy) -> datetime:
    """Texts wait out the quiet hours in the location's zone; email goes when due."""
    if channel != Channel.SMS or location is None:
        return due_at
    return after_quiet_hours(
        due_at, location.zone, policy.quiet_hours_start, policy.quiet_hours_end
    )
