"""About 100 demo patients with believable, clearly fictional details.

Phones use the 555-0100..0199 range reserved for fiction; emails use example.com.
"""

from datetime import date, timedelta

from clinic.core.demo import DemoContext

from .models import Patient, Sex
from .services import patient_create

FEMALE_NAMES = [
    "Rosa",
    "Linda",
    "Angela",
    "Deborah",
    "Keisha",
    "Maria",
    "Susan",
    "Emily",
    "Grace",
    "Hannah",
    "Tamika",
    "Jennifer",
    "Patricia",
    "Yolanda",
    "Carmen",
    "Nicole",
    "Brenda",
    "Olivia",
    "Sofia",
    "Janet",
]
MALE_NAMES = [
    "James",
    "Robert",
    "Michael",
    "William",
    "Darnell",
    "Carlos",
    "Thomas",
    "Kevin",
    "Anthony",
    "Raymond",
    "Luis",
    "Gary",
    "Dennis",
    "Marcus",
    "Steven",
    "Paul",
    "Andre",
    "Ethan",
    "Victor",
    "Harold",
]
LAST_NAMES = [
    "Martinez",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Nguyen",
    "Patel",
]
AREA_CODES = {"raleigh": "919", "denver": "303"}


def _demo_person(ctx: DemoContext, index: int, location) -> dict:
    rng = ctx.rng
    is_female = index % 2 == 0
    first = rng.choice(FEMALE_NAMES if is_female else MALE_NAMES)
    last = rng.choice(LAST_NAMES)
    born = date(1942, 1, 1) + timedelta(days=rng.randrange(0, 365 * 58))
    return {
        "legal_first_name": first,
        "legal_last_name": last,
        "date_of_birth": born,
        "sex": Sex.FEMALE if is_female else Sex.MALE,
        "phone": f"+1{AREA_CODES[location.code]}5550{100 + index % 100}",
        "email": f"{first}.{last}.{index:03d}@example.com".lower(),
        "home_location": location,
    }


def seed(ctx: DemoContext) -> None:
    locations = ctx.made["locations"]
    existing = {
        patient.email: patient for patient in Patient.objects.filter(email__endswith="@example.com")
    }
    patients, created = [], 0
    for index in range(ctx.patient_count):
        person = _demo_person(ctx, index, locations[index % len(locations)])
        patient = existing.get(person["email"])
        if patient is None:
            patient = patient_create(**person)
            created += 1
        patients.append(patient)
    ctx.made["patients"] = patients
    ctx.counts["patients"] = len(patients)
    ctx.counts["patients created"] = created
