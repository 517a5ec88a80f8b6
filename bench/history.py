"""Benchmark of the physician's view (history.selectors.patient_history, the history page and
its API) for a patient with 5 and with 500 events.

Run from the project root:

    .venv/bin/python bench/history.py                  # 5 and 500 events, 30 runs each
    .venv/bin/python bench/history.py --events 5 500 2000 --repeat 50
    .venv/bin/python bench/history.py --keep           # keep clinic_bench_history

It never touches the dev database: like bench/patient_search.py it drops and recreates a
database of its own, clinic_bench_history, on the server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432), points DATABASE_URL at it before django.setup() and
migrates it (which also loads the procedure catalog, steroids and safety thresholds). It then
gives one patient per size a history of that many events, mixed as a busy chart is:
assessments (NRS, ODI, NDI), procedure records with two follow-up outcomes each, the orders
behind them, appointments (past ones completed, two procedures booked ahead), intakes and
messages, inserted with bulk_create, and 2,000 other patients with a little history each so
the patient's rows are not the whole table. After VACUUM ANALYZE it times, per size, after one
warm-up:

- patient_history(patient=...) called directly;
- GET /patients/<id>/history/ (the page, rendered) with Django's test Client, signed in as a
  clinician;
- GET /api/v1/patients/<id>/history/ (the JSON) with the same client;

and prints p50 and p95 in milliseconds, the number of SQL queries and the response size. The
page and the API each write one ChartAccess row per request, as they do in production.
"""

import argparse
import random
import uuid
from datetime import timedelta
from decimal import Decimal

from benchkit import machine_line, measure, own_database, vacuum_analyze

BENCH_DB = "clinic_bench_history"
# How a chart's events are shared out among the kinds: the timeline's kinds, weighted. A
# procedure record also brings two outcomes, which are not counted as events.
MIX = {
    "assessment": 30,
    "message": 26,
    "appointment": 16,
    "order": 14,  # each procedure record has its order; the rest are not performed yet
    "record": 10,
    "intake": 4,
}
CODES = ["tfesi_ls", "ilesi_ls", "mbb_ls", "rfa_ls", "tfesi_ct", "si_injection", "facet_ia_ls"]
STEROIDS = [("triamcinolone", Decimal("40")), ("dexamethasone", Decimal("10")), (None, None)]
HISTORY_YEARS = 6
OTHER_PATIENTS = 2000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, nargs="+", default=[5, 500], help="history sizes to time"
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per measurement")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the data")
    parser.add_argument(
        "--others", type=int, default=OTHER_PATIENTS, help="other patients, 10 events each"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    return parser.parse_args()


# --- The histories ----------------------------------------------------------------------


def shares(events: int) -> dict[str, int]:
    """`events` shared out by MIX (largest remainders), at least one procedure record."""
    total = sum(MIX.values())
    exact = {kind: events * weight / total for kind, weight in MIX.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(MIX, key=lambda kind: exact[kind] - counts[kind], reverse=True)
    for kind in by_remainder[: events - sum(counts.values())]:
        counts[kind] += 1
    if counts["record"] == 0 and events:
        largest = max(counts, key=counts.get)
        counts[largest] -= 1
        counts["record"] = 1
    counts["order"] = max(counts["order"], counts["record"])  # a record needs its order
    return counts


class Clinic:
    """The rows every history refers to: two sites, the procedure types, visit types and the
    clinician who reads the histories."""

    def __init__(self):
        from clinic.users.roles import Role
        from clinic.users.services import user_upsert
        from procedures.models import ProcedureType
        from scheduling.models import AppointmentType
        from sites.models import Location

        self.locations = [
            Location.objects.create(code="raleigh", name="Raleigh", time_zone="America/New_York"),
            Location.objects.create(code="denver", name="Denver", time_zone="America/Denver"),
        ]
        self.visit_types = [
            AppointmentType.objects.create(
                code=code, name=name, kind=kind, duration_minutes=minutes, room_kind="consult"
            )
            for code, name, kind, minutes in [
                ("follow_up", "Follow-up", "follow_up", 20),
                ("procedure", "Procedure", "procedure", 45),
            ]
        ]
        self.types = {t.code: t for t in ProcedureType.objects.filter(code__in=CODES)}
        self.clinician = user_upsert(
            username="bench-doc", password=uuid.uuid4().hex, role=Role.CLINICIAN
        )


def make_patient(rng: random.Random, name: str):
    from patients.models import Patient
    from patients.services import next_mrn

    return Patient.objects.create(
        mrn=next_mrn(),
        legal_first_name=name,
        legal_last_name="Bench",
        date_of_birth=timezone_now().date() - timedelta(days=rng.randint(30, 80) * 365),
    )


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def insert_history(clinic: Clinic, patient, events: int, rng: random.Random) -> dict[str, int]:
    """Bulk-insert `events` events for `patient`, spread over HISTORY_YEARS years. The
    patient's visits are with a physician of their own, so that no two patients' visits can
    overlap for one provider (an exclusion constraint)."""
    from django.db import transaction

    from notifications.models import Message
    from patients.models import Assessment, IntakeSubmission
    from procedures.models import ProcedureOrder, ProcedureOutcome, ProcedureRecord
    from scheduling.models import Appointment
    from sites.models import Provider

    counts = shares(events)
    now = timezone_now()
    span_days = HISTORY_YEARS * 365

    def moment(days_back_max: int = span_days) -> timedelta:
        return timedelta(days=rng.uniform(1, days_back_max), minutes=rng.randint(0, 600))

    with transaction.atomic():
        provider = Provider.objects.create(
            first_name="Bench", last_name=patient.mrn, credentials="MD", kind="physician"
        )
        orders, records, outcomes = [], [], []
        for _ in range(counts["record"]):
            code = rng.choice(CODES)
            steroid, dose = rng.choice(STEROIDS)
            performed = now - moment()
            order = ProcedureOrder(
                patient=patient,
                procedure_type=clinic.types[code],
                side=rng.choice(["left", "right", "bilateral"]),
                levels=["L4-L5"] if code.endswith("_ls") else [],
                indication_code="M54.16",
                indication_text="Lumbar radiculopathy",
                status="performed",
                auth_status="not_needed",
                ordered_by=clinic.clinician,
            )
            orders.append(order)
            pre = rng.randint(5, 9)
            record = ProcedureRecord(
                order=order,
                patient=patient,
                procedure_type=clinic.types[code],
                performed_at=performed,
                performer=provider,
                location=rng.choice(clinic.locations),
                side=order.side,
                levels=order.levels,
                guidance="fluoroscopy",
                steroid_id=steroid,
                steroid_dose_mg=dose,
                pre_nrs=pre,
                post_nrs=rng.randint(0, pre),
            )
            records.append(record)
            for days, source in ((1, "diary"), (14, "survey")):
                nrs = rng.randint(0, 10)
                outcomes.append(
                    ProcedureOutcome(
                        record=record,
                        measured_at=performed + timedelta(days=days),
                        nrs=nrs,
                        pgic=rng.randint(1, 7),
                        percent_relief=Decimal(max(0, (pre - nrs) * 100 // pre)),
                        source=source,
                    )
                )
        # Orders not (yet) performed: the rest of the "order" share.
        for _ in range(counts["order"] - counts["record"]):
            code = rng.choice(CODES)
            orders.append(
                ProcedureOrder(
                    patient=patient,
                    procedure_type=clinic.types[code],
                    side="left",
                    levels=["L5-S1"] if code.endswith("_ls") else [],
                    indication_code="M54.16",
                    indication_text="Lumbar radiculopathy",
                    status=rng.choice(["ordered", "authorized", "cancelled"]),
                    auth_status="not_needed",
                    ordered_by=clinic.clinician,
                )
            )
        ProcedureOrder.objects.bulk_create(orders)
        ProcedureRecord.objects.bulk_create(records)
        ProcedureOutcome.objects.bulk_create(outcomes)

        assessments = []
        for _ in range(counts["assessment"]):
            instrument = rng.choices(["nrs", "odi", "ndi"], weights=[6, 3, 1])[0]
            total = rng.randint(0, 10) if instrument == "nrs" else rng.randint(0, 100)
            assessments.append(
                Assessment(
                    patient=patient,
                    instrument=instrument,
                    body_region="low_back" if instrument == "nrs" else "",
                    items={},
                    total=Decimal(total),
                    taken_at=now - moment(),
                )
            )
        Assessment.objects.bulk_create(assessments)

        # Appointments never overlap for a patient (an exclusion constraint): one a slot,
        # walking back from today; the two newest are procedures booked ahead.
        appointments = []
        step = max(1, span_days // max(1, counts["appointment"]))
        performable = [o for o in orders if o.status in ("ordered", "authorized")]
        for n in range(counts["appointment"]):
            ahead = n < min(2, len(performable))
            start = (
                (now + timedelta(days=7 * (n + 1)))
                if ahead
                else now - timedelta(days=step * (n + 1), hours=rng.randint(0, 8))
            )
            kind = clinic.visit_types[1 if ahead else 0]
            end = start + timedelta(minutes=kind.duration_minutes)
            appointments.append(
                Appointment(
                    patient=patient,
                    appointment_type=kind,
                    provider=provider,
                    location=rng.choice(clinic.locations),
                    procedure_order=performable[n] if ahead else None,
                    start=start,
                    end=end,
                    block_start=start,
                    block_end=end,
                    status="booked" if ahead else rng.choice(["completed"] * 8 + ["no_show"]),
                )
            )
        Appointment.objects.bulk_create(appointments)

        IntakeSubmission.objects.bulk_create(
            IntakeSubmission(
                patient=patient,
                status="reviewed",
                answers={"chief_complaint": "Low back pain"},
                submitted_at=now - moment(),
            )
            for _ in range(counts["intake"])
        )

        messages = []
        for _ in range(counts["message"]):
            due = now - moment()
            messages.append(
                Message(
                    patient=patient,
                    location=rng.choice(clinic.locations),
                    channel=rng.choice(["sms", "email"]),
                    kind=rng.choice(["appointment_reminder", "outcome_survey", "pain_diary"]),
                    subject_type="appointment",
                    subject_id=uuid.uuid4(),
                    variant="24h",
                    due_at=due,
                    send_after=due,
                    state="sent",
                    sent_at=due + timedelta(minutes=1),
                )
            )
        Message.objects.bulk_create(messages)
    counts["outcome"] = len(outcomes)
    counts["order"] = len(orders)
    return counts


# --- The measurements -------------------------------------------------------------------


def time_patient(clinic: Clinic, patient, repeat: int) -> list[dict]:
    from history.selectors import patient_history
    from tests.signin import SignedInClient

    client = SignedInClient(SERVER_NAME="localhost")
    client.sign_in(clinic.clinician)  # past the second step too: staff pages need it

    def selector():
        patient_history(patient=patient)
        return None

    def get(url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return len(response.content)

        return call

    return [
        measure("patient_history()", selector, repeat),
        measure("GET history page", get(f"/patients/{patient.pk}/history/"), repeat),
        measure("GET history API", get(f"/api/v1/patients/{patient.pk}/history/"), repeat),
    ]


def print_report(results: list[tuple[int, dict, list[dict]]], repeat: int) -> None:
    print()
    print(f"Physician's view ({machine_line()}), {repeat} runs each after one warm-up")
    print()
    header = (
        f"{'events':>6}  {'measured':<20} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7} {'size':>9}"
    )
    print(header)
    print("-" * len(header))
    for events, _, rows in results:
        for row in rows:
            size = f"{row['size'] / 1024:.1f} KiB" if row["size"] else ""
            print(
                f"{events:>6}  {row['what']:<20} {row['p50']:>7.1f} {row['p95']:>7.1f} "
                f"{row['queries']:>7} {size:>9}"
            )
    print()
    for events, counts, _ in results:
        made = ", ".join(f"{counts[k]} {k}s" for k in [*MIX, "outcome"] if counts.get(k))
        print(f"{events} events: {made}")
    print()
    print("queries: SQL statements of one call (the page and the API add the session, the")
    print("user, the role groups, the patient and the ChartAccess insert); size: the body.")


def main() -> None:
    args = parse_args()
    with own_database(BENCH_DB, keep=args.keep):
        rng = random.Random(args.seed)
        clinic = Clinic()
        print(f"Inserting {args.others:,} other patients with 10 events each ...", flush=True)
        for n in range(args.others):
            insert_history(clinic, make_patient(rng, f"Other{n}"), 10, rng)
        patients = []
        for events in args.events:
            print(f"Inserting a patient with {events} events ...", flush=True)
            patient = make_patient(rng, f"Events{events}")
            patients.append((events, patient, insert_history(clinic, patient, events, rng)))
        vacuum_analyze()
        results = []
        for events, patient, counts in patients:
            print(f"Timing {events} events ({args.repeat} runs each) ...", flush=True)
            results.append((events, counts, time_patient(clinic, patient, args.repeat)))
        print_report(results, args.repeat)


if __name__ == "__main__":
    main()
