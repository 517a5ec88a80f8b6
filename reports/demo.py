"""The demo's visit history as a clinic's previous system would hand it over, so that every
operations report has figures to show. The scheduling demo enters past visits afterwards
(`appointment_backfill`), which knows only how each ended; here each gets the times the
previous system kept: when it was booked, when the patient arrived, went in and left, when a
cancellation was made, whether the patient confirmed; and some of the patients it saw had
waited on the waitlist. Like the notifications demo's message history, these are written
as history rows, once (a second run finds nothing left to add)."""

import math
import random
import zlib
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from clinic.core.demo import DemoContext
from clinic.users.actor import Actor
from notifications.clock import at_local, local_day
from notifications.models import (
    Channel,
    Message,
    MessageKind,
    MessageState,
    NotificationPolicy,
    SubjectType,
)
from procedures.models import ProcedureOutcome, ProcedureRecord
from procedures.services import outcome_record
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

from .summaries import summaries_refresh

BOOKED_AHEAD_DAYS = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45]
SURVEYS_ANSWERED_IN_TEN = 7  # the others go unanswered: the registry's response rate is not 100%
SURVEY_RELIEF = [0.1, 0.3, 0.5, 0.6, 0.8]
CONFIRMED_SHARE = 0.6
WAITLIST_SHARE = 0.15


def seed(ctx: DemoContext) -> None:
    rng = random.Random(20261204)
    today = timezone.localdate()
    # Past visits entered afterwards (booked after they began): a second run finds none.
    past = Appointment.objects.filter(start__date__lt=today, created_at__gt=F("start"))
    visits = list(past.order_by("start").select_related("appointment_type"))
    for visit in visits:
        _give_times(rng, visit)
    ctx.counts["visit histories"] = len(visits)
    ctx.counts["waitlist histories"] = _waitlist(
        rng, [v for v in visits if v.status == "completed"]
    )
    ctx.counts["survey answers"] = _survey_answers()


def seed_summaries(ctx: DemoContext) -> None:
    """Last of all: the reports' summary tables take in everything seeded (decision 0038)."""
    ctx.counts["report summaries"] = 1 if summaries_refresh(wait=True).ran else 0


def _surveys_sent() -> None:
    """The outcome surveys the past procedures' follow-up plans called for, as sent history
    (the planner does not plan messages already past when a record is entered)."""
    policy = NotificationPolicy.current()
    now = timezone.now()
    past = ProcedureRecord.objects.filter(performed_at__lt=now).select_related(
        "procedure_type", "location", "patient"
    )
    for record in past.order_by("performed_at", "id"):
        zone = record.location.zone
        day = local_day(record.performed_at, zone)
        for days in (record.procedure_type.follow_up_plan or {}).get("outcome_survey_days") or []:
            due = at_local(day + timedelta(days=days), policy.day_message_time, zone)
            if due >= now:
                continue
            Message.objects.get_or_create(
                subject_type=SubjectType.PROCEDURE_RECORD,
                subject_id=record.pk,
                kind=MessageKind.OUTCOME_SURVEY,
                variant=f"{days}d",
                defaults={
                    "patient": record.patient,
                    "location": record.location,
                    "channel": Channel.EMAIL if record.patient.email else Channel.SMS,
                    "due_at": due,
                    "send_after": due,
                    "expires_at": due + timedelta(days=policy.survey_link_days),
                    "state": MessageState.SENT,
                    "attempts": 1,
                    "sent_at": due,
                },
            )


def _survey_answers() -> int:
    """The outcome surveys sent after past procedures are answered by most patients through the survey link, a few hours to two days
    after it went out; the rest never answer. Whether a survey is answered follows from its
    id, so seeding again answers the same ones, once."""
    _surveys_sent()
    link_days = NotificationPolicy.current().survey_link_days
    sent = Message.objects.filter(
        kind=MessageKind.OUTCOME_SURVEY,
        subject_type=SubjectType.PROCEDURE_RECORD,
        state=MessageState.SENT,
        sent_at__isnull=False,
    ).order_by("sent_at", "id")
    records = ProcedureRecord.objects.in_bulk([message.subject_id for message in sent])
    answered = 0
    for message in sent:
        draw = zlib.crc32(message.pk.bytes)
        record = records.get(message.subject_id)
        if record is None or draw % 10 >= SURVEYS_ANSWERED_IN_TEN:
            continue
        sent_at = message.sent_at or message.due_at
        answered_at = sent_at + timedelta(hours=3 + draw % 45)
        already = ProcedureOutcome.objects.filter(
            record=record,
            source="survey",
            measured_at__gte=sent_at,
            measured_at__lt=sent_at + timedelta(days=link_days),
        ).exists()
        if already or answered_at > timezone.now():
            continue
        relief = _survey_relief(record, draw)
        outcome_record(
            record=record,
            nrs=math.ceil(round(record.pre_nrs * (1 - relief), 6)),  # never more relief
            measured_at=answered_at,
            pgic=1 if relief >= 0.75 else 2 if relief >= 0.5 else 3 if relief >= 0.3 else 4,
            source="survey",
            by=Actor.message_link(),
        )
        answered += 1
    return answered


def _survey_relief(record: ProcedureRecord, draw: int) -> float:
    """A relief drawn for a survey answer, never above the best the record already shows: the
    demo's pathways rest on those (a negative block stays negative, the stimulator trial keeps
    its 60%)."""
    relief = SURVEY_RELIEF[draw % len(SURVEY_RELIEF)]
    if record.best_relief_percent is None:
        return relief
    return min(relief, float(record.best_relief_percent) / 100)


def _give_times(rng: random.Random, visit: Appointment) -> None:
    booked = visit.start - timedelta(days=rng.choice(BOOKED_AHEAD_DAYS), hours=rng.randint(1, 8))
    fields: dict[str, datetime | None] = {"created_at": booked}
    if visit.status == AppointmentStatus.COMPLETED:
        arrived = visit.start - timedelta(minutes=rng.randint(-5, 15))
        in_room = max(arrived, visit.start) + timedelta(minutes=rng.choice([2, 5, 8, 12, 20, 35]))
        minutes = visit.appointment_type.duration_minutes + rng.randint(-5, 15)
        fields |= {
            "checked_in_at": arrived,
            "in_room_at": in_room,
            "completed_at": in_room + timedelta(minutes=max(minutes, 5)),
        }
    if visit.status != AppointmentStatus.CANCELLED and rng.random() < CONFIRMED_SHARE:
        fields["confirmed_at"] = visit.start - timedelta(hours=rng.randint(20, 70))
    if visit.status == AppointmentStatus.CANCELLED:
        hours_before = rng.choice([2, 5, 12, 30, 48, 72, 120])
        AppointmentStatusChange.objects.create(
            appointment=visit,
            from_status=AppointmentStatus.BOOKED,
            to_status=AppointmentStatus.CANCELLED,
            at=max(visit.start - timedelta(hours=hours_before), booked),
            channel="desk",
            reason="Demo history",
        )
    Appointment.objects.filter(pk=visit.pk).update(**fields)


def _waitlist(rng: random.Random, completed: list[Appointment]) -> int:
    """Some patients seen had waited for an earlier slot and took one offered; a few more
    waited and gave up."""
    made = 0
    for visit in completed:
        if rng.random() >= WAITLIST_SHARE:
            continue
        visit.refresh_from_db(fields=["created_at"])
        joined = visit.created_at - timedelta(hours=rng.randint(4, 96))
        entry = WaitlistEntry.objects.create(
            patient=visit.patient,
            appointment_type=visit.appointment_type,
            earliest=joined.date(),
            latest=visit.start.date() + timedelta(days=7),
            status=WaitlistStatus.BOOKED,
        )
        WaitlistOffer.objects.create(
            entry=entry,
            provider=visit.provider,
            location=visit.location,
            room=visit.room,
            start=visit.start,
            expires_at=visit.created_at + timedelta(hours=4),
            status=OfferStatus.ACCEPTED,
            appointment=visit,
        )
        gave_up = WaitlistEntry.objects.create(
            patient=visit.patient,
            appointment_type=visit.appointment_type,
            earliest=joined.date(),
            latest=joined.date() + timedelta(days=10),
            status=WaitlistStatus.WITHDRAWN,
        )
        for entry_row in (entry, gave_up):
            WaitlistEntry.objects.filter(pk=entry_row.pk).update(created_at=joined)
        made += 2
    return made
