"""The demo clinic: each app contributes a seeder, run in order by `manage.py seed_demo`."""

import random
from dataclasses import dataclass, field

# Seeders in the order they run; each is `seed(ctx: DemoContext) -> None` and must be
# idempotent (look rows up by a natural key before creating them).
DEMO_SEEDERS = [
    "clinic.core.demo.accounts.seed_staff",
    "sites.demo.seed",
    "scheduling.demo.seed_hours",
    "patients.demo.seed",
    "clinic.core.demo.accounts.seed_patient_account",
    "scheduling.demo.seed_appointments",
    # After the portal login is linked, so the portal patient's intake is their own.
    "patients.demo.seed_intakes",
    # After the patients and the portal login: procedure histories and open orders.
    "procedures.demo.seed",
    # Books the visits of the orders made ready above (a visit is what schedules an order).
    "scheduling.demo.seed_procedure_visits",
    # Last: what the bookings and procedures above planned becomes the message history.
    "notifications.demo.seed",
    # After everything: the past visits' times (booked, arrived, in room, done, cancelled) and
    # waitlist history that the operations reports read.
    "reports.demo.seed",
    # Last of all: the reports' summary tables take in everything above.
    "reports.demo.seed_summaries",
]

DEMO_ACCOUNTS = [
    ("admin", "manager and site administrator"),
    ("frontdesk", "front desk"),
    ("physician", "clinician"),
    ("patient", "patient"),
]


@dataclass
class DemoContext:
    password: str
    patient_count: int
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    made: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
