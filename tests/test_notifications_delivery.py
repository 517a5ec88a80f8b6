"""The outbox end to end: business services write messages, the dispatcher (driven on a clock
the test moves, or run by a real beat) hands them to a real Celery worker through a real
broker, and the worker delivers each one exactly once to the keyed file backends. Each test
runs twice: on Redis and on RabbitMQ (tests/brokers.py).

"Delivered exactly once" is what the file backends record: every hand-over of a key is a line
in deliveries.log, and a second one for the same key goes to duplicates.log instead."""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.dispatcher import dispatch_due
from notifications.models import Message, MessageKind, MessageState, SubjectType
from notifications.tests.conftest import email_patient, sms_patient
from procedures.models import Guidance, ProcedureType
from procedures.services import record_create
from scheduling.models import AppointmentStatus, WorkingHours
from scheduling.services import appointment_book, appointment_move, appointment_reschedule
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import RoomKind
from tests import brokers
from tests.support import artifacts, celery, child_env, kill, start, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

SMS_BACKEND = "notifications.channels.FileSmsBackend"
EMAIL_BACKEND = "notifications.email_backends.KeyedFileEmailBackend"


# --- Shared helpers (the fault tests import these) ---------------------------------------------


def morning_zone() -> ZoneInfo:
    """A fixed-offset zone in which it is now between 09:00 and 10:00. A timeline run in it
    never touches the text-message quiet hours (21:00-08:00), whatever time the suite runs."""
    offset = (9 - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return ZoneInfo("Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}")  # POSIX: sign flipped


def child_database_url() -> str:
    """The database this test runs on (the test database, not DATABASE_URL's) as a URL."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Outbox:
    """A private send queue and dispatch queue, and the two file backends' folders of one
    test."""

    queue: str
    sms_dir: Path
    email_dir: Path

    @property
    def dispatch_queue(self) -> str:
        return f"{self.queue}-dispatch"

    @property
    def hold_path(self) -> Path:
        """The file of keys whose texts wait while listed (a worker started with
        `env(SMS_FILE_HOLD_PATH=...)` honours it; see FileSmsBackend)."""
        return self.sms_dir.parent / "sms-hold"

    def hold(self, keys) -> None:
        self.hold_path.write_text("".join(f"{key}\n" for key in keys))

    def release(self) -> None:
        self.hold_path.unlink(missing_ok=True)

    def env(self, **overrides: str) -> dict:
        """The environment of a worker or beat delivering this outbox."""
        return (
            child_env(
                DJANGO_SETTINGS_MODULE="clinic.settings.test",
                DATABASE_URL=child_database_url(),
                NOTIFICATIONS_QUEUE=self.queue,
                NOTIFY_DISPATCH_QUEUE=self.dispatch_queue,
                SMS_BACKEND=SMS_BACKEND,
                SMS_FILE_PATH=str(self.sms_dir),
                SMS_FILE_DELAY_SECONDS="0",
                EMAIL_BACKEND=EMAIL_BACKEND,
                EMAIL_FILE_PATH=str(self.email_dir),
            )
            | overrides
        )

    def _lines(self, name: str) -> list[str]:
        lines = []
        for folder in (self.sms_dir, self.email_dir):
            path = folder / name
            if path.exists():
                lines += path.read_text().split()
        return lines

    def deliveries(self) -> Counter:
        """How many times each key was handed over for the first time (so: 0 or 1)."""
        return Counter(self._lines("deliveries.log"))

    def duplicates(self) -> list[str]:
        """Keys handed over again after they were delivered: must stay empty."""
        return self._lines("duplicates.log")

    def assert_exactly_once(self, keys) -> None:
        keys = {str(k) for k in keys}
        delivered = self.deliveries()
        assert self.duplicates() == [], "a message was handed to a provider twice"
        assert {k: n for k, n in delivered.items() if n != 1} == {}, "a key logged twice"
        assert keys - set(delivered) == set(), "a message was never delivered"
        assert set(delivered) - keys == set(), "something else was delivered"


@pytest.fixture
def outbox(settings, tmp_path):
    """This process delivers (and recovers) through the same file backends as the worker it
    starts, and publishes to a queue only that worker reads."""
    box = Outbox(f"notify-{uuid.uuid4().hex[:10]}", tmp_path / "sms", tmp_path / "email")
    settings.NOTIFICATIONS_QUEUE = box.queue
    settings.NOTIFY_DISPATCH_QUEUE = box.dispatch_queue
    settings.SMS_BACKEND = SMS_BACKEND
    settings.SMS_FILE_PATH = str(box.sms_dir)
    settings.SMS_FILE_DELAY_SECONDS = 0
    settings.EMAIL_BACKEND = EMAIL_BACKEND
    settings.EMAIL_FILE_PATH = str(box.email_dir)
    yield box
    brokers.delete_queues(box.queue, box.dispatch_queue)


@pytest.fixture
def processes(request):
    """Start real processes for one test; every one is killed when the test ends, before
    the database is emptied (a worker holding a connection would block that). Nothing the
    test checks depends on a graceful stop, which costs a Celery worker seconds."""
    started = []

    def run(args: list[str], env: dict, log_name: str):
        test = request.node.name.replace("[", "-").rstrip("]")
        log_path = artifacts("logs", "notifications", f"{test}-{log_name}.log")
        process = start(args, env, log_path)
        process.log_path = log_path
        started.append(process)
        return process

    try:
        yield run
    finally:
        for process in reversed(started):
            kill(process)


def worker_args(outbox: Outbox, name: str, *, concurrency: int = 1) -> list[str]:
    """A worker on the test's two queues, as the Procfile's worker is on all of them."""
    return celery(
        "worker",
        "--queues",
        f"{outbox.dispatch_queue},{outbox.queue}",
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "--hostname",
        f"{outbox.queue}-{name}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    )


def wait_until_ready(process, timeout: float = 60) -> None:
    """Block until the worker's log says it is consuming its queue."""

    def ready():
        assert process.poll() is None, f"the worker stopped; see {process.log_path}"
        return " ready." in process.log_path.read_text(errors="replace")

    wait_for(ready, timeout=timeout, what=f"the worker to be ready ({process.log_path})")


@pytest.fixture
def site(db):
    zone = morning_zone()
    location = LocationFactory(time_zone=zone.key, phone="+13125550100")
    provider = ProviderFactory(locations=[location])
    for weekday in range(7):  # the desk books only offered times: 9:00-17:00 every day
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=time(9),
            end_time=time(17),
        )
    return {
        "zone": zone,
        "location": location,
        "provider": provider,
        "room": RoomFactory(location=location, kind=RoomKind.CONSULT),
        "type": AppointmentTypeFactory(min_notice_hours=0),
    }


def at(site, days: int, hour: int, minute: int = 0) -> datetime:
    """`days` from today at a local time of the site."""
    zone = site["zone"]
    day = timezone.now().astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def record(site, patient, clinician, code: str, performed_at: datetime):
    return record_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code=code),
        by=Actor.desk(clinician),
        performer=site["provider"],
        location=site["location"],
        performed_at=performed_at,
        guidance=Guidance.FLUOROSCOPY,
        side="left",
        levels=["L4-L5"],
        pre_nrs=7,
        post_nrs=2,
    )


def due_now(subject, count: int, *, prefix: str, due_at: datetime | None = None) -> list[str]:
    """`count` messages about a performed procedure, due now, written straight to the outbox
    (no on-commit publish): only a dispatcher hands them to a worker."""
    due_at = due_at or timezone.now()
    rows = [
        Message(
            patient=subject.patient,
            location=subject.location,
            channel="sms" if subject.patient.preferred_channel == "sms" else "email",
            kind=MessageKind.NEXT_DAY_CHECK,
            subject_type=SubjectType.PROCEDURE_RECORD,
            subject_id=subject.pk,
            variant=f"{prefix}-{i}",
            due_at=due_at,
            send_after=due_at,
            expires_at=due_at + timedelta(days=1),
        )
        for i in range(count)
    ]
    return [str(m.pk) for m in Message.objects.bulk_create(rows)]


def states(ids) -> Counter:
    return Counter(Message.objects.filter(pk__in=list(ids)).values_list("state", flat=True))


def all_sent(ids) -> bool:
    ids = list(ids)
    return Message.objects.filter(pk__in=ids, state=MessageState.SENT).count() == len(ids)


# --- 1. The whole timeline on the dispatcher's clock --------------------------------------------


class Timeline:
    """Moves the dispatcher's clock step by step and checks, after the worker has dealt with
    each hand-over, that exactly the messages due by then were delivered, each once."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox
        self.deliverable: dict[str, datetime] = {}  # id -> send_after
        self.never: set[str] = set()
        self.first_seen: dict[str, datetime] = {}
        self.clock = timezone.now()  # the dispatcher's: where the last step left it

    def expect(self, messages) -> None:
        for message in messages:
            self.deliverable[str(message.pk)] = message.send_after

    def expect_never(self, messages) -> None:
        for message in messages:
            self.never.add(str(message.pk))
            self.deliverable.pop(str(message.pk), None)

    def due_by(self, clock: datetime) -> set[str]:
        return {pk for pk, send_after in self.deliverable.items() if send_after <= clock}

    def check(self, clock: datetime, label: str) -> None:
        delivered = self.outbox.deliveries()
        expected = self.due_by(clock)
        early = set(delivered) - expected
        missing = expected - set(delivered)
        assert not early, f"{label}: delivered before due: {describe(early)}"
        assert not missing, f"{label}: due but not delivered: {describe(missing)}"
        assert max(delivered.values(), default=1) == 1 and self.outbox.duplicates() == []
        sent = set(
            map(str, Message.objects.filter(state=MessageState.SENT).values_list("pk", flat=True))
        )
        assert sent == expected, f"{label}: rows marked sent differ from what was delivered"
        for pk in expected:
            self.first_seen.setdefault(pk, clock)

    def step(self, clock: datetime, label: str) -> list[str]:
        before = set(self.outbox.deliveries())
        self.clock = clock
        report = dispatch_due(now=clock)
        handed = set(report.handed_over)
        assert handed == self.due_by(clock) - before, f"{label}: handed over the wrong messages"
        wait_for(
            lambda: settled(handed, clock), timeout=60, what=f"the worker to deal with {label}"
        )
        self.check(clock, label)
        return report.handed_over

    def wait_fast_path(self, messages, label: str) -> None:
        """Messages due at once go out on commit, without the dispatcher."""
        self.expect(messages)
        wait_for(lambda: all_sent(m.pk for m in messages), timeout=60, what=label)
        self.check(max(self.clock, timezone.now()), label)


def settled(ids, clock) -> bool:
    """The worker has finished with every message handed over at `clock`."""
    busy = Q(state=MessageState.SENDING) | Q(state=MessageState.PENDING, enqueued_at=clock)
    return not Message.objects.filter(pk__in=list(ids)).filter(busy).exists()


def describe(ids) -> list[str]:
    rows = Message.objects.filter(pk__in=list(ids)).order_by("send_after")
    return [f"{m.kind}/{m.variant or '-'} due {m.send_after:%m-%d %H:%M}Z {m.state}" for m in rows]


def planned(subject) -> dict[tuple[str, str], Message]:
    return {(m.kind, m.variant): m for m in Message.objects.filter(subject_id=subject.pk)}


def test_every_planned_message_is_delivered_once_when_due_and_never_when_cancelled(
    outbox, processes, site, front_desk_user, clinician_user
):
    worker = processes(worker_args(outbox, "worker", concurrency=2), outbox.env(), "worker")
    timeline = Timeline(outbox)

    def book(patient, start):
        return appointment_book(
            patient=patient,
            appointment_type=site["type"],
            provider=site["provider"],
            location=site["location"],
            room=site["room"],
            start=start,
            by=Actor.desk(front_desk_user),
        )

    # Three visits five days out: one kept, one to be cancelled, one to be moved.
    kept = book(sms_patient(), at(site, 5, 9, 30))
    cancelled = book(email_patient(), at(site, 5, 11))
    moved = book(sms_patient(), at(site, 5, 14))
    # Two injections done half an hour ago: a diagnostic block (pain diary) and an ESI.
    performed_at = timezone.now() - timedelta(minutes=30)
    mbb = record(site, sms_patient(), clinician_user, "mbb_ls", performed_at)
    esi = record(site, email_patient(), clinician_user, "tfesi_ls", performed_at)

    everything = Message.objects.all()
    assert {m.state for m in everything} <= {MessageState.PENDING, MessageState.SENT}
    assert all(m.send_after == m.due_at for m in everything), "no step is in the quiet hours"
    mbb_plan, esi_plan = planned(mbb), planned(esi)
    diary_hours = [1, 2, 4, 6, 8]
    assert set(mbb_plan) == {
        (MessageKind.NEXT_DAY_CHECK, ""),
        (MessageKind.FOLLOW_UP_VISIT, ""),
        *((MessageKind.PAIN_DIARY, f"{h}h") for h in diary_hours),
    }
    assert set(esi_plan) == {
        (MessageKind.NEXT_DAY_CHECK, ""),
        (MessageKind.FOLLOW_UP_VISIT, ""),
        (MessageKind.OUTCOME_SURVEY, "14d"),
    }
    for hours in diary_hours:
        diary = mbb_plan[(MessageKind.PAIN_DIARY, f"{hours}h")]
        assert diary.due_at == performed_at + timedelta(hours=hours)
    timeline.expect([*mbb_plan.values(), *esi_plan.values()])
    timeline.expect(m for k, m in planned(kept).items() if k[0] == MessageKind.APPOINTMENT_REMINDER)

    confirmations = [
        planned(a)[(MessageKind.APPOINTMENT_CONFIRMATION, "")] for a in (kept, cancelled, moved)
    ]
    timeline.wait_fast_path(confirmations, "the three confirmations")
    wait_until_ready(worker)

    # Moved before any of its reminders was due: the old ones never go, the new ones do.
    old_reminders = [
        m for k, m in planned(moved).items() if k[0] == MessageKind.APPOINTMENT_REMINDER
    ]
    assert {m.variant for m in old_reminders} == {"72h", "24h"}
    timeline.expect_never(old_reminders)
    new_start = at(site, 8, 9, 30)
    rebooked = appointment_reschedule(
        appointment=moved, start=new_start, by=Actor.desk(front_desk_user)
    )
    new_plan = planned(rebooked)
    timeline.wait_fast_path(
        [new_plan[(MessageKind.APPOINTMENT_CONFIRMATION, "moved")]], "the moved confirmation"
    )
    new_72h = new_plan[(MessageKind.APPOINTMENT_REMINDER, "72h")]
    new_24h = new_plan[(MessageKind.APPOINTMENT_REMINDER, "24h")]
    assert new_72h.due_at == new_start - timedelta(hours=72)
    timeline.expect([new_72h, new_24h])

    # The day of the injections: each diary prompt inside its 90-minute window.
    for hours in diary_hours:
        clock = performed_at + timedelta(hours=hours, minutes=5)
        assert len(timeline.step(clock, f"diary {hours}h")) == 1
        if hours == 1:  # the same step again hands over nothing and sends nothing
            assert timeline.step(clock, "diary 1h again") == []
    timeline.step(at(site, 1, 9, 55), "the morning after, before the next-day checks")
    assert len(timeline.step(at(site, 1, 10, 5), "the next-day checks")) == 2

    # Cancelled before its reminders are due: the patient is told, the reminders never go.
    cancelled_reminders = [
        m for k, m in planned(cancelled).items() if k[0] == MessageKind.APPOINTMENT_REMINDER
    ]
    timeline.expect_never(cancelled_reminders)
    appointment_move(
        appointment=cancelled,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    timeline.wait_fast_path(
        [planned(cancelled)[(MessageKind.APPOINTMENT_CANCELLED, "")]], "the cancellation"
    )

    kept_72h = planned(kept)[(MessageKind.APPOINTMENT_REMINDER, "72h")]
    assert timeline.step(at(site, 2, 9), "day 2, before the 72-hour reminders") == []
    assert timeline.step(at(site, 2, 15), "day 2, after the 72-hour reminders") == [
        str(kept_72h.pk)
    ]
    assert timeline.step(at(site, 4, 9), "day 4, before the 24-hour reminders") == []
    assert len(timeline.step(at(site, 4, 15), "day 4, after the 24-hour reminders")) == 1
    assert timeline.step(at(site, 5, 10), "day 5, the moved visit's 72h") == [str(new_72h.pk)]
    assert timeline.step(at(site, 7, 9, 45), "day 7, the moved visit's 24h") == [str(new_24h.pk)]
    assert len(timeline.step(at(site, 7, 10, 5), "day 7, the follow-up visits")) == 2
    assert timeline.step(at(site, 7, 10, 5), "day 7 again") == []
    assert len(timeline.step(at(site, 14, 10, 5), "day 14, the outcome survey")) == 1
    assert timeline.step(at(site, 30, 12), "a month later") == []

    # Everything planned went exactly once; the moved visit's reminders at the new time.
    outbox.assert_exactly_once(timeline.deliverable)
    assert timeline.first_seen[str(new_72h.pk)] == at(site, 5, 10)
    assert timeline.first_seen[str(new_24h.pk)] == at(site, 7, 9, 45)
    never = Message.objects.filter(pk__in=timeline.never)
    assert len(never) == 4 and {m.state for m in never} == {MessageState.CANCELLED}
    assert not any(m.attempts for m in never)
    assert states(timeline.deliverable) == {MessageState.SENT: len(timeline.deliverable)}
    assert Message.objects.exclude(pk__in=[*timeline.deliverable, *timeline.never]).count() == 0
    for message in Message.objects.filter(pk__in=list(timeline.deliverable)):
        assert message.attempts == 1 and message.body
        folder, suffix = (
            (outbox.sms_dir, "json") if message.channel == "sms" else (outbox.email_dir, "eml")
        )
        delivered = (folder / f"{message.pk}.{suffix}").read_text()
        address = message.patient.phone if message.channel == "sms" else message.patient.email
        assert address in delivered


# --- 2. Beat runs the dispatcher -----------------------------------------------------------------


def test_beat_dispatches_a_due_message_that_was_never_handed_over(
    outbox, processes, site, clinician_user, tmp_path
):
    performed_at = timezone.now() - timedelta(minutes=30)
    texted = record(site, sms_patient(), clinician_user, "tfesi_ls", performed_at)
    emailed = record(site, email_patient(), clinician_user, "tfesi_ls", performed_at)
    # Written without the on-commit publish: only a dispatcher can hand these over.
    due = due_now(texted, 1, prefix="beat") + due_now(emailed, 1, prefix="beat")
    later = due_now(texted, 1, prefix="later", due_at=timezone.now() + timedelta(hours=1))
    assert Message.objects.filter(enqueued_at__isnull=False).count() == 0

    env = outbox.env(NOTIFY_DISPATCH_SECONDS="1")
    processes(worker_args(outbox, "worker"), env, "worker")
    beat = processes(
        celery("beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")),
        env,
        "beat",
    )
    # A backstop, not a measure: a worker and beat start side by side on a busy machine.
    wait_for(lambda: all_sent(due), timeout=120, what="beat's dispatcher to get both sent")
    enqueued = Message.objects.filter(pk__in=due).values_list("enqueued_at", flat=True)
    assert all(enqueued), "handed over by a dispatcher"

    # Beat keeps dispatching every second: nothing goes twice, nothing goes early.
    dispatches = beat.log_path.read_text().count("dispatch_due_messages")
    wait_for(
        lambda: beat.log_path.read_text().count("dispatch_due_messages") >= dispatches + 3,
        timeout=60,
        what="three more dispatches by beat",
        process=beat,
    )
    outbox.assert_exactly_once(due)
    assert states(later) == {MessageState.PENDING: 1}
    assert beat.poll() is None, "beat is still running"
