"""Every write of the scheduling app: booking, moving through states, the waitlist."""

from .booking import appointment_book, nearest_slots, patient_change_refusal
from .moves import (
    TRANSITIONS,
    appointment_backfill,
    appointment_confirm,
    appointment_move,
    appointment_reschedule,
)
from .waitlist import offer_accept, offer_freed_slot, offers_expire, waitlist_join

__all__ = [
    "TRANSITIONS",
    "appointment_backfill",
    "appointment_book",
    "appointment_confirm",
    "appointment_move",
    "appointment_reschedule",
    "nearest_slots",
    "offer_accept",
    "offer_freed_slot",
    "offers_expire",
    "patient_change_refusal",
    "waitlist_join",
]
