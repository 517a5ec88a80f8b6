"""The outbox: every message to a patient is a row written in the same transaction as the
change that causes it, then delivered exactly once by the dispatcher and the send task."""

import uuid
from datetime import time

import pghistory
from django.db import models

from clinic.audit.reads import PatientData
from clinic.audit.writes import row_events
from clinic.core.db import SingleRow, choice_check


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    MLLP = "mllp", "HL7 interface (MLLP)"


class MessageKind(models.TextChoices):
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Appointment cancelled"
    PREPARATION = "preparation", "Preparation before a procedure"
    MEDICATION_HOLD = "medication_hold", "Medication hold starts"
    NEXT_DAY_CHECK = "next_day_check", "Next-day check after a procedure"
    PAIN_DIARY = "pain_diary", "Pain diary entry"
    OUTCOME_SURVEY = "outcome_survey", "Outcome survey"
    WOUND_CHECK = "wound_check", "Wound check"
    FOLLOW_UP_VISIT = "follow_up_visit", "Book the follow-up visit"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    PUMP_REFILL = "pump_refill", "Pump refill due"
    # HL7 v2 SIU to the practice-management system (scheduling/siu.py builds them).
    SIU_S12 = "siu_s12", "HL7 SIU S12: visit booked"
    SIU_S13 = "siu_s13", "HL7 SIU S13: visit rescheduled"
    SIU_S14 = "siu_s14", "HL7 SIU S14: visit modified"
    SIU_S15 = "siu_s15", "HL7 SIU S15: visit cancelled"
    SIU_S26 = "siu_s26", "HL7 SIU S26: no-show"


# Messages to another system, not to the patient: their body is an HL7 message, not a text.
INTERFACE_KINDS = frozenset(
    {
        MessageKind.SIU_S12,
        MessageKind.SIU_S13,
        MessageKind.SIU_S14,
        MessageKind.SIU_S15,
        MessageKind.SIU_S26,
    }
)


class SubjectType(models.TextChoices):
    APPOINTMENT = "appointment", "Appointment"
    PROCEDURE_RECORD = "procedure_record", "Performed procedure"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    # One visit through its moves: the id is the appointments' shared calendar_uid, and the
    # variant the message's place in that visit's sequence (an HL7 interface's order).
    VISIT = "visit", "Visit (through its moves)"


class MessageState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Message(PatientData):
    """One message about one object. (subject, kind, variant) is unique, so scheduling the
    same message twice is a no-op and two dispatchers can never make two rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="messages"
    )
    location = models.ForeignKey(
        "sites.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whose time zone, quiet hours and phone number the message uses.",
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    subject_type = models.CharField(max_length=24, choices=SubjectType.choices)
    subject_id = models.UUIDField()
    variant = models.CharField(
        max_length=60, blank=True, help_text="Tells apart messages of one kind: 24h, 72h, 14d."
    )
    due_at = models.DateTimeField(help_text="When the plan says it goes out.")
    send_after = models.DateTimeField(
        help_text="When it may go out: the due time, moved past quiet hours or a retry's wait."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this it is no use any more and is not sent."
    )
    state = models.CharField(
        max_length=10, choices=MessageState.choices, default=MessageState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)
    email_subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, help_text="The text as sent, kept for staff.")
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed to a send task (by the dispatcher's clock)."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-due_at"]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=models.Q(state="pending"),
                name="message_due_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(state="sending"),
                name="message_sending_idx",
            ),
            models.Index(fields=["patient", "-due_at"], name="message_patient_idx"),
            models.Index(fields=["subject_id"], name="message_subject_idx"),
            models.Index(
                fields=["-updated_at"],
                condition=models.Q(state="failed"),
                name="message_failed_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "variant"],
                name="message_one_per_subject_kind",
            ),
            choice_check("channel", Channel, "message_channel_valid"),
            choice_check("kind", MessageKind, "message_kind_valid"),
            choice_check("subject_type", SubjectType, "message_subject_type_valid"),
            choice_check("state", MessageState, "message_state_valid"),
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="sending") | models.Q(claimed_at__isnull=False),
                name="message_sending_has_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.id}"


class LinkPurpose(models.TextChoices):
    CONFIRM = "confirm", "Confirm an appointment"
    CANCEL = "cancel", "Cancel an appointment"
    SURVEY = "survey", "Outcome survey"
    DIARY = "diary", "Pain diary entry"
    WAITLIST_OFFER = "waitlist_offer", "Accept a waitlist offer"
    RESCHEDULE = "reschedule", "Move an appointment"
    MANAGE = "manage", "Confirm, move or cancel an appointment"


# A visit's links ask for the patient's date of birth before they show or change anything.
VISIT_PURPOSES = frozenset(
    {LinkPurpose.CONFIRM, LinkPurpose.CANCEL, LinkPurpose.RESCHEDULE, LinkPurpose.MANAGE}
)


# Each change of a link (a wrong date of birth counted, its use) is kept with who, from
# where and when (the request's context); inserts are not: a batch of reminders makes many.
@pghistory.track(pghistory.UpdateEvent("link_change"), model_name="LinkTokenEvent")
class LinkToken(models.Model):
    """A link in a message that needs no login. Only a hash of the token is stored; it
    expires, and the ones that act (survey, diary, confirm, cancel, accept) work once. A
    visit's link is locked after a few wrong dates of birth."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16, choices=LinkPurpose.choices)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    subject_id = models.UUIDField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_checks = models.PositiveSmallIntegerField(
        default=0, help_text="Wrong dates of birth entered on the link's page."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [choice_check("purpose", LinkPurpose, "linktoken_purpose_valid")]

    def __str__(self) -> str:
        return f"Link {self.id}"


class ReplyOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed the next visit"
    CALL_REQUESTED = "call_requested", "Asked the clinic to call"
    NO_VISIT = "no_visit", "No booked visit ahead"
    NOT_UNDERSTOOD = "not_understood", "Not understood"
    UNKNOWN_SENDER = "unknown_sender", "Number of no patient, or of several"


@pghistory.track(*row_events())
class InboundText(PatientData):
    """A text message a patient sent us (a reply to a reminder), as the SMS provider handed
    it over. Its words are not kept: only what they meant and what was done. The sender's
    number is kept as a keyed hash, enough to answer an unknown number only once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider_message_id = models.CharField(
        max_length=64, unique=True, help_text="The provider's id (Twilio's MessageSid)."
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_texts",
    )
    subject_id = models.UUIDField(
        null=True, blank=True, help_text="The visit the reply was about (its next booked one)."
    )
    outcome = models.CharField(max_length=16, choices=ReplyOutcome.choices)
    sender_digest = models.CharField(max_length=64)
    reply = models.CharField(
        max_length=320, blank=True, help_text="What we answered; empty when we stayed silent."
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["subject_id"],
                condition=models.Q(outcome="call_requested"),
                name="inbound_call_request_idx",
            ),
            models.Index(fields=["sender_digest", "-received_at"], name="inbound_sender_idx"),
        ]
        constraints = [choice_check("outcome", ReplyOutcome, "inbound_outcome_valid")]

    def __str__(self) -> str:
        return f"Inbound text {self.id}"


class NotificationPolicy(SingleRow):
    """The clinic's messaging rules, one row, edited by a manager in the admin."""

    quiet_hours_start = models.TimeField(
        default=time(21, 0),
        help_text="No text message from this local time (TCPA, 47 CFR 64.1200(c)(1): 9 p.m.).",
    )
    quiet_hours_end = models.TimeField(
        default=time(8, 0),
        help_text="... until this local time (TCPA, 47 CFR 64.1200(c)(1): 8 a.m.).",
    )
    day_message_time = models.TimeField(
        default=time(10, 0),
        help_text="Local time for messages planned by the day (next-day check, survey, "
        "preparation, hold start).",
    )
    preparation_days_before = models.PositiveSmallIntegerField(
        default=3, help_text="Preparation instructions go out this many days before a procedure."
    )
    follow_up_visit_days = models.PositiveSmallIntegerField(
        default=7,
        help_text="Days after a procedure to remind a patient with no visit booked to book one.",
    )
    survey_link_days = models.PositiveSmallIntegerField(
        default=7, help_text="How long a survey link works."
    )
    diary_send_window_minutes = models.PositiveSmallIntegerField(
        default=90,
        help_text="A pain-diary prompt not sent within this time of its hour is dropped: a "
        "late answer would not measure the block.",
    )
    diary_link_hours = models.PositiveSmallIntegerField(
        default=4, help_text="How long a pain-diary link works."
    )
    refill_reminder_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days before a pump refill is due to remind the patient."
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=5, help_text="Delivery attempts before a message is marked failed."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "messaging policy"
        verbose_name_plural = "messaging policy"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="policy_single_row"),
            models.CheckConstraint(condition=models.Q(max_attempts__gte=1), name="policy_attempts"),
        ]

    def __str__(self) -> str:
        return "Messaging policy"
