"""Every write of the scheduling app: booking, moving through states, the waitlist."""

from .booking import appointment_book, nearest_slots, patient_change_refusal
from .moves import (
    TRANSITIONS,
    appointment_backfill,
    appointment_confirm,
    appointment_move,
    appointment_reschedule,
    appointment_undo,
)
from .waitlist import (
    offer_accept,
    offer_freed_slot,
    offer_slot_by_hand,
    offers_expire,
    waitlist_add,
    waitlist_join,
    waitlist_remove,
)

__all__ = [
    "TRANSITIONS",
    "appointment_backfill",
    "appointment_book",
    "appointment_confirm",
    "appointment_move",
    "appointment_reschedule",
    "appointment_undo",
    "nearest_slots",
    "offer_accept",
    "offer_freed_slot",
    "offer_slot_by_hand",
    "offers_expire",
    "patient_change_refusal",
    "waitlist_add",
    "waitlist_join",
    "waitlist_remove",
]
