"""About 100 demo patients with believable, clearly fictional details and charts.

Phones use the 555-0100..0199 range reserved for fiction; emails use example.com.

Each chart (medications, allergies, conditions, implanted devices and 12-18 months of
assessments), the intakes waiting for review and the likely duplicate are written through
the services, so they pass the same validation as real input. A chart is built only while
it is empty and an intake only for a patient who has none, so seeding twice adds nothing;
every random choice comes from ctx.rng, so every run builds the same clinic.
"""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from clinic.core.demo import DemoContext
from clinic.users.actor import Actor

from .instruments import NDI_ITEMS, ODI_SECTIONS
from .models import (
    Allergy,
    AllergySeverity,
    Assessment,
    BodyRegion,
    Condition,
    ConditionKind,
    DeviceKind,
    DrugClass,
    DuplicateCandidate,
    DuplicateStatus,
    ImplantedDevice,
    IntakeStatus,
    IntakeSubmission,
    Medication,
    Patient,
    ProcedureAllergyClass,
    Sex,
)
from .questionnaire import RED_FLAGS
from .services import (
    assessment_record,
    clinical_entry_add,
    intake_submit,
    patient_create,
)

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

# --- Chart content ----------------------------------------------------------------------
# A medication is (name, drug class, dose, frequency, notes).

PAIN_MEDICATIONS = {
    DrugClass.GABAPENTINOID: [
        ("gabapentin", "300 mg", "three times daily"),
        ("gabapentin", "600 mg", "three times daily"),
        ("pregabalin", "75 mg", "twice daily"),
        ("pregabalin", "150 mg", "twice daily"),
    ],
    DrugClass.ANTIDEPRESSANT: [
        ("duloxetine", "60 mg", "once daily"),
        ("duloxetine", "30 mg", "once daily"),
        ("amitriptyline", "25 mg", "at bedtime"),
        ("nortriptyline", "10 mg", "at bedtime"),
    ],
    DrugClass.MUSCLE_RELAXANT: [
        ("cyclobenzaprine", "10 mg", "at bedtime as needed"),
        ("tizanidine", "4 mg", "up to three times daily as needed"),
        ("methocarbamol", "750 mg", "four times daily as needed"),
        ("baclofen", "10 mg", "three times daily"),
    ],
    DrugClass.NSAID: [
        ("meloxicam", "15 mg", "once daily"),
        ("meloxicam", "7.5 mg", "once daily"),
        ("naproxen", "500 mg", "twice daily with food"),
        ("ibuprofen", "600 mg", "three times daily as needed"),
        ("diclofenac 1% gel", "4 g", "four times daily to the painful joint"),
    ],
    DrugClass.OPIOID: [
        ("tramadol", "50 mg", "every 6 hours as needed"),
        ("oxycodone", "5 mg", "every 6 hours as needed"),
        ("hydrocodone/acetaminophen", "5/325 mg", "every 6 hours as needed"),
        ("buprenorphine transdermal patch", "10 mcg/hour", "once weekly"),
    ],
    DrugClass.OTHER: [
        ("acetaminophen", "1000 mg", "three times daily as needed"),
        ("lidocaine 5% patch", "1 patch", "12 hours on, 12 hours off"),
    ],
}
PAIN_CLASS_WEIGHTS = {
    DrugClass.GABAPENTINOID: 30,
    DrugClass.NSAID: 25,
    DrugClass.MUSCLE_RELAXANT: 20,
    DrugClass.ANTIDEPRESSANT: 20,
    DrugClass.OPIOID: 15,
    DrugClass.OTHER: 15,
}
STOPPED_BECAUSE = [
    "Stopped: dizziness.",
    "Stopped: no benefit after 8 weeks.",
    "Stopped: drowsiness.",
    "Stopped: constipation.",
    "Stopped by primary care.",
]
GENERAL_MEDICATIONS = [
    ("lisinopril", DrugClass.OTHER, "10 mg", "once daily", "Hypertension."),
    ("amlodipine", DrugClass.OTHER, "5 mg", "once daily", "Hypertension."),
    ("atorvastatin", DrugClass.OTHER, "20 mg", "at bedtime", ""),
    ("levothyroxine", DrugClass.OTHER, "75 mcg", "once daily before breakfast", ""),
    ("omeprazole", DrugClass.OTHER, "20 mg", "once daily", ""),
    ("alendronate", DrugClass.OTHER, "70 mg", "once weekly", "Osteoporosis."),
]
DIABETES_REGIMENS = [
    [("metformin", DrugClass.ANTIDIABETIC, "500 mg", "twice daily with meals", "")],
    [("metformin", DrugClass.ANTIDIABETIC, "1000 mg", "twice daily with meals", "")],
    [
        ("metformin", DrugClass.ANTIDIABETIC, "1000 mg", "twice daily with meals", ""),
        ("empagliflozin", DrugClass.ANTIDIABETIC, "10 mg", "once daily", ""),
    ],
    [
        ("metformin", DrugClass.ANTIDIABETIC, "1000 mg", "twice daily with meals", ""),
        ("insulin glargine", DrugClass.ANTIDIABETIC, "24 units", "at bedtime", "A1c 8.1%."),
    ],
    [("semaglutide", DrugClass.ANTIDIABETIC, "1 mg", "once weekly (subcutaneous)", "")],
]
# The drugs of anticoagulants.csv a pain clinic sees most, as real regimens.
BLEEDING_REGIMENS = [
    [("aspirin", DrugClass.ANTIPLATELET, "81 mg", "once daily", "Primary prevention.")],
    [
        ("clopidogrel", DrugClass.P2Y12_INHIBITOR, "75 mg", "once daily", "Stroke in 2022."),
    ],
    [("apixaban", DrugClass.DOAC, "5 mg", "twice daily", "Atrial fibrillation.")],
    [
        (
            "warfarin",
            DrugClass.VITAMIN_K_ANTAGONIST,
            "5 mg",
            "once daily in the evening",
            "Mechanical aortic valve; INR goal 2.5-3.5, managed by the anticoagulation clinic.",
        )
    ],
    [
        (
            "enoxaparin",
            DrugClass.LMWH,
            "40 mg",
            "once daily (subcutaneous)",
            "DVT prophylaxis for 4 weeks after a knee replacement.",
        )
    ],
    [
        (
            "rivaroxaban",
            DrugClass.DOAC,
            "20 mg",
            "once daily with the evening meal",
            "Atrial fibrillation.",
        )
    ],
    [
        ("aspirin", DrugClass.ANTIPLATELET, "81 mg", "once daily", "Coronary stent, 2025."),
        (
            "clopidogrel",
            DrugClass.P2Y12_INHIBITOR,
            "75 mg",
            "once daily",
            "Coronary stent, 2025; dual antiplatelet therapy per cardiology.",
        ),
    ],
    [
        (
            "aspirin",
            DrugClass.ANTIPLATELET,
            "81 mg",
            "once daily",
            "Secondary prevention after a heart attack in 2020.",
        )
    ],
    [("apixaban", DrugClass.DOAC, "2.5 mg", "twice daily", "Pulmonary embolism in 2023.")],
]
BLEEDING_REGIMEN_WEIGHTS = [4, 2, 3, 2, 1, 2, 1, 3, 1]

# (substance, reaction, severity, procedure class, notes)
PROCEDURE_ALLERGIES = [
    (
        "Iodinated contrast (iohexol)",
        "hives",
        AllergySeverity.MODERATE,
        ProcedureAllergyClass.IODINATED_CONTRAST,
        "Hives after a CT with contrast in 2019.",
    ),
    ("Latex", "contact dermatitis", AllergySeverity.MILD, ProcedureAllergyClass.LATEX, ""),
    (
        "Chlorhexidine",
        "rash and itching where the skin was prepped",
        AllergySeverity.MODERATE,
        ProcedureAllergyClass.CHLORHEXIDINE,
        "",
    ),
]
ORDINARY_ALLERGIES = [
    ("Penicillin", "hives", AllergySeverity.MODERATE, ProcedureAllergyClass.NONE, ""),
    ("Sulfa drugs", "rash", AllergySeverity.MILD, ProcedureAllergyClass.NONE, ""),
    ("Codeine", "nausea and vomiting", AllergySeverity.MILD, ProcedureAllergyClass.NONE, ""),
    ("Morphine", "itching", AllergySeverity.MILD, ProcedureAllergyClass.NONE, ""),
    (
        "Shellfish",
        "throat swelling",
        AllergySeverity.SEVERE,
        ProcedureAllergyClass.NONE,
        "Not a contrast risk factor.",
    ),
    ("Amoxicillin", "rash", AllergySeverity.UNKNOWN, ProcedureAllergyClass.NONE, "As a child."),
]
ALLERGY_WEIGHTS = [3, 2, 1, 6, 3, 3, 1, 1, 1]

CANCER_HISTORIES = [
    "Breast cancer, lumpectomy and radiation 2017; in remission.",
    "Prostate cancer, radiation 2019.",
    "Colon cancer, resected 2015.",
    "Melanoma of the back, excised 2020.",
    "Non-Hodgkin lymphoma, chemotherapy 2012.",
]
OTHER_CONDITIONS = [
    "Hypertension",
    "Osteoporosis",
    "Hypothyroidism",
    "Obstructive sleep apnea, uses CPAP",
    "Obesity (BMI 36)",
    "Depression",
    "Gastro-oesophageal reflux",
    "Chronic kidney disease, stage 3a",
]
PACEMAKERS = [
    ("Medtronic", "Azure XT DR MRI", "Dual-chamber pacemaker for complete heart block"),
    ("Abbott", "Assurity MRI", "Dual-chamber pacemaker for sick sinus syndrome"),
    ("Boston Scientific", "Accolade MRI", "Pacemaker for symptomatic bradycardia"),
]
STIMULATORS = [
    ("Boston Scientific", "WaveWriter Alpha", "Thoracic spinal cord stimulator, T9-T10 leads"),
    ("Nevro", "Senza Omnia", "Spinal cord stimulator (10 kHz), T9-T11 leads"),
]

# Main pain regions and the region that often comes with them.
PAIN_REGIONS = [
    (BodyRegion.LOW_BACK, 40, BodyRegion.LEG),
    (BodyRegion.NECK, 18, BodyRegion.ARM),
    (BodyRegion.KNEE, 10, BodyRegion.HIP),
    (BodyRegion.SACROILIAC, 9, BodyRegion.LOW_BACK),
    (BodyRegion.HIP, 6, BodyRegion.LOW_BACK),
    (BodyRegion.SHOULDER, 6, BodyRegion.NECK),
    (BodyRegion.HEAD, 4, BodyRegion.NECK),
    (BodyRegion.WIDESPREAD, 4, None),
    (BodyRegion.LEG, 3, BodyRegion.LOW_BACK),
]
BACK_REGIONS = {BodyRegion.LOW_BACK, BodyRegion.SACROILIAC}
# How the pain went over the year: (name, weight).
COURSES = [("improving", 40), ("partial", 20), ("unchanged", 20), ("relapsed", 10), ("worse", 10)]


@dataclass
class ChartPlan:
    """What one demo patient's chart holds; drawn up front so every run is the same."""

    rng: random.Random
    regions: list[str]
    bleeding: int | None = None  # index into BLEEDING_REGIMENS
    allergy: int | None = None  # index into PROCEDURE_ALLERGIES + ORDINARY_ALLERGIES
    diabetes: bool = False
    cancer: bool = False
    bleeding_disorder: bool = False
    pacemaker: bool = False
    stimulator: bool = False
    extra: dict = field(default_factory=dict)


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
        **_contact_preferences(index),
    }


def _contact_preferences(index: int) -> dict:
    """Six in ten prefer texts (and allow email), three email only, one gave no consent."""
    if index % 10 < 6:
        return {"preferred_channel": "sms", "consent_sms": True, "consent_email": True}
    if index % 10 < 9:
        return {"preferred_channel": "email", "consent_sms": False, "consent_email": True}
    return {"preferred_channel": "phone", "consent_sms": False, "consent_email": False}


def _plan_charts(ctx: DemoContext, count: int) -> list[ChartPlan]:
    """Cohorts are sampled (not rolled per patient) so the shares are the same every time."""
    rng = ctx.rng
    plans = []
    for _ in range(count):
        patient_rng = random.Random(rng.getrandbits(64))
        regions_, weights = zip(*[(r[0], r[1]) for r in PAIN_REGIONS], strict=True)
        main = patient_rng.choices(regions_, weights)[0]
        companion = next(r[2] for r in PAIN_REGIONS if r[0] == main)
        regions = [main]
        if companion and patient_rng.random() < 0.35:
            regions.append(companion)
        plans.append(ChartPlan(rng=patient_rng, regions=regions))

    def share(fraction: float) -> int:
        return min(count, round(fraction * count))

    order = list(range(count))
    rng.shuffle(order)
    _plan_bleeding(rng, plans, order, share(0.15), count)
    _plan_allergies(rng, plans, rng.sample(range(count), share(0.30)))
    _plan_conditions(rng, plans, share)
    return plans


def _plan_bleeding(
    rng: random.Random, plans: list[ChartPlan], order: list[int], bleeding: int, count: int
) -> None:
    for n, index in enumerate(order[:bleeding]):
        # Every regimen once first, then the common ones more often.
        if n < len(BLEEDING_REGIMENS):
            plans[index].bleeding = n
        else:
            plans[index].bleeding = rng.choices(
                range(len(BLEEDING_REGIMENS)), BLEEDING_REGIMEN_WEIGHTS
            )[0]
    for index in order[bleeding:][: 1 if count >= 50 else 0]:
        plans[index].bleeding_disorder = True


def _plan_allergies(rng: random.Random, plans: list[ChartPlan], allergic: list[int]) -> None:
    kinds = len(PROCEDURE_ALLERGIES) + len(ORDINARY_ALLERGIES)
    for n, index in enumerate(allergic):
        if n < len(PROCEDURE_ALLERGIES):
            plans[index].allergy = n
        else:
            plans[index].allergy = rng.choices(range(kinds), ALLERGY_WEIGHTS)[0]


def _plan_conditions(
    rng: random.Random, plans: list[ChartPlan], share: Callable[[float], int]
) -> None:
    count = len(plans)
    for index in rng.sample(range(count), share(0.20)):
        plans[index].diabetes = True
    for index in rng.sample(range(count), share(0.08)):
        plans[index].cancer = True
    for index in rng.sample(range(count), share(0.04)):
        plans[index].pacemaker = True
    for index in rng.sample(range(count), share(0.02)):
        stimulator = plans[index]
        stimulator.stimulator = True
        stimulator.regions = [BodyRegion.LOW_BACK, BodyRegion.LEG]


# --- Writing one chart ------------------------------------------------------------------


def _days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


def _add_medication(ctx, patient, medication, *, start: date, end: date | None = None):
    name, drug_class, dose, frequency, notes = medication
    clinical_entry_add(
        patient=patient,
        chart_list="medication",
        by=Actor.seeding(ctx.made["physician"]),
        name=name,
        drug_class=drug_class,
        dose=dose,
        frequency=frequency,
        notes=notes,
        start_date=start,
        end_date=end,
    )


def _medications(ctx: DemoContext, patient: Patient, plan: ChartPlan) -> None:
    rng = plan.rng
    _pain_medications(ctx, patient, plan)
    if rng.random() < 0.15:  # something tried before and stopped
        _stopped_medication(ctx, patient, rng)
    if plan.bleeding is not None:
        _bleeding_medications(ctx, patient, rng, BLEEDING_REGIMENS[plan.bleeding])
    if plan.diabetes:
        for medication in rng.choice(DIABETES_REGIMENS):
            _add_medication(ctx, patient, medication, start=_days_ago(rng.randint(300, 4000)))
    if rng.random() < 0.4:
        for medication in rng.sample(GENERAL_MEDICATIONS, rng.randint(1, 2)):
            _add_medication(ctx, patient, medication, start=_days_ago(rng.randint(200, 4000)))


def _pain_medications(ctx: DemoContext, patient: Patient, plan: ChartPlan) -> None:
    rng = plan.rng
    classes = list(PAIN_CLASS_WEIGHTS)
    if plan.bleeding is not None:
        classes.remove(DrugClass.NSAID)  # not with an anticoagulant or antiplatelet
    how_many = rng.choices([0, 1, 2, 3, 4], [8, 30, 32, 20, 10])[0]
    chosen: list[DrugClass] = []
    while len(chosen) < how_many:
        drug_class = rng.choices(classes, [PAIN_CLASS_WEIGHTS[c] for c in classes])[0]
        if drug_class not in chosen:
            chosen.append(drug_class)
    for drug_class in chosen:
        name, dose, frequency = rng.choice(PAIN_MEDICATIONS[drug_class])
        medication = (name, drug_class, dose, frequency, "")
        _add_medication(ctx, patient, medication, start=_days_ago(rng.randint(45, 1500)))


def _stopped_medication(ctx: DemoContext, patient: Patient, rng: random.Random) -> None:
    drug_class = rng.choice([DrugClass.OPIOID, DrugClass.GABAPENTINOID, DrugClass.NSAID])
    name, dose, frequency = rng.choice(PAIN_MEDICATIONS[drug_class])
    started = _days_ago(rng.randint(400, 1500))
    medication = (name, drug_class, dose, frequency, rng.choice(STOPPED_BECAUSE))
    ended = started + timedelta(days=rng.randint(20, 300))
    _add_medication(ctx, patient, medication, start=started, end=ended)


def _bleeding_medications(
    ctx: DemoContext, patient: Patient, rng: random.Random, regimen: list[tuple]
) -> None:
    started = _days_ago(rng.randint(90, 2500))
    for medication in regimen:
        if medication[1] == DrugClass.LMWH:  # a short course after surgery
            started = _days_ago(rng.randint(5, 20))
            _add_medication(
                ctx, patient, medication, start=started, end=started + timedelta(days=28)
            )
        else:
            _add_medication(ctx, patient, medication, start=started)


def _entry(ctx: DemoContext, patient: Patient, chart_list: str, **fields) -> None:
    clinical_entry_add(
        patient=patient, chart_list=chart_list, by=Actor.seeding(ctx.made["physician"]), **fields
    )


def _allergies_conditions_devices(ctx: DemoContext, patient: Patient, plan: ChartPlan) -> None:
    rng = plan.rng
    if plan.allergy is not None:
        substance, reaction, severity, procedure_class, notes = [
            *PROCEDURE_ALLERGIES,
            *ORDINARY_ALLERGIES,
        ][plan.allergy]
        _entry(
            ctx,
            patient,
            "allergy",
            substance=substance,
            reaction=reaction,
            severity=severity,
            procedure_class=procedure_class,
            notes=notes,
        )
    if plan.diabetes:
        _entry(
            ctx,
            patient,
            "condition",
            kind=ConditionKind.DIABETES,
            description="Type 2 diabetes",
            start_date=_days_ago(rng.randint(400, 5000)),
        )
    if plan.cancer:
        _entry(
            ctx,
            patient,
            "condition",
            kind=ConditionKind.CANCER_HISTORY,
            description=rng.choice(CANCER_HISTORIES),
        )
    if plan.bleeding_disorder:
        _entry(
            ctx,
            patient,
            "condition",
            kind=ConditionKind.BLEEDING_DISORDER,
            description="von Willebrand disease, type 1",
            notes="Hematology plan needed before any procedure.",
        )
    if plan.pacemaker:
        manufacturer, model_name, description = rng.choice(PACEMAKERS)
        implanted = _days_ago(rng.randint(200, 3000))
        _entry(
            ctx,
            patient,
            "condition",
            kind=ConditionKind.PACEMAKER_ICD,
            description=description,
            start_date=implanted,
        )
        _entry(
            ctx,
            patient,
            "device",
            kind=DeviceKind.PACEMAKER,
            description=description,
            manufacturer=manufacturer,
            model_name=model_name,
            start_date=implanted,
        )
    if plan.stimulator:
        manufacturer, model_name, description = rng.choice(STIMULATORS)
        _entry(
            ctx,
            patient,
            "device",
            kind=DeviceKind.SPINAL_CORD_STIMULATOR,
            description=description,
            manufacturer=manufacturer,
            model_name=model_name,
            start_date=_days_ago(rng.randint(400, 1500)),
            notes="Failed back surgery syndrome after an L4-S1 fusion.",
        )
    if rng.random() < 0.35:
        for description in rng.sample(OTHER_CONDITIONS, rng.randint(1, 2)):
            _entry(
                ctx,
                patient,
                "condition",
                kind=ConditionKind.OTHER,
                description=description,
            )


def _course(rng: random.Random) -> tuple[str, int, int]:
    """A course of the main pain over the year: its name, baseline and final NRS."""
    name = rng.choices([c[0] for c in COURSES], [c[1] for c in COURSES])[0]
    baseline = rng.randint(5, 9)
    final = {
        "improving": baseline - rng.randint(3, 5),
        "partial": baseline - rng.randint(1, 2),
        "unchanged": baseline + rng.choice([-1, 0, 0, 1]),
        "relapsed": baseline - rng.randint(0, 1),
        "worse": baseline + rng.randint(1, 2),
    }[name]
    return name, baseline, max(1, min(10, final))


def _pain_at(course: str, baseline: int, final: int, progress: float) -> float:
    if course == "relapsed":  # good relief after a procedure that wore off
        return baseline + (final - baseline) * progress - 4 * math.sin(math.pi * progress)
    return baseline + (final - baseline) * progress


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _disability_items(rng, keys, pain: float, *, skip_sex_life: bool) -> dict:
    """ODI/NDI answers (0-5 per item) that go with a pain level, with some scatter."""
    level = pain * 0.3  # NRS 8 is about 48% on the ODI, 24/50 on the NDI
    items = {key: _clamp(level + rng.choice([-1, -0.5, 0, 0, 0.5, 1]), 0, 5) for key in keys}
    if skip_sex_life:
        items.pop("s8", None)  # the ODI section patients most often leave blank
    return items


def _visit_days(rng: random.Random) -> list[int]:
    """2-6 visits, in days ago: the first 12-18 months back, the rest spread out after it."""
    first, last = rng.randint(365, 545), rng.randint(7, 120)
    count = rng.randint(2, 6)
    gap = (first - last) / (count - 1)
    days = [first]
    for visit in range(1, count):
        jitter = 0 if visit == count - 1 else rng.uniform(-gap / 4, gap / 4)
        days.append(round(first - gap * visit + jitter))
    return days


def _assessments(ctx: DemoContext, patient: Patient, plan: ChartPlan) -> None:
    rng = plan.rng
    zone = patient.home_location.zone if patient.home_location else timezone.get_current_timezone()
    days = _visit_days(rng)
    course, baseline, final = _course(rng)
    main = plan.regions[0]
    offsets = {region: rng.randint(1, 3) for region in plan.regions[1:]}
    uses_peg = rng.random() < 0.3
    skip_sex_life = rng.random() < 0.3
    mood = rng.choice([0, 0, 1, 1, 2, 3, 4])
    for visit, days_ago in enumerate(days):
        progress = visit / (len(days) - 1)
        pain = _pain_at(course, baseline, final, progress) + rng.choice([-1, 0, 0, 0, 1])
        day = _days_ago(days_ago)
        slot = time(rng.randint(8, 15), rng.choice([0, 15, 30, 45]))
        taken_at = datetime.combine(day, slot, tzinfo=zone)
        record = []
        record.append(("nrs", main, {"score": _clamp(pain, 0, 10)}))
        for region, offset in offsets.items():
            record.append(("nrs", region, {"score": _clamp(pain - offset, 0, 10)}))
        if main in BACK_REGIONS or plan.stimulator:
            keys = [key for key, _ in ODI_SECTIONS]
            items = _disability_items(rng, keys, pain, skip_sex_life=skip_sex_life)
            record.append(("odi", "", items))
        elif main == BodyRegion.NECK:
            keys = [key for key, _ in NDI_ITEMS]
            record.append(("ndi", "", _disability_items(rng, keys, pain, skip_sex_life=False)))
        if uses_peg:
            record.append(
                (
                    "peg",
                    "",
                    {
                        "pain": _clamp(pain, 0, 10),
                        "enjoyment": _clamp(pain + rng.choice([-2, -1, 0, 1]), 0, 10),
                        "activity": _clamp(pain + rng.choice([-1, 0, 1, 2]), 0, 10),
                    },
                )
            )
        if visit == 0 or rng.random() < 0.25:
            low_mood = _clamp(mood / 2 + rng.choice([-0.5, 0, 0.5]) + (pain > 7) * 0.5, 0, 3)
            record.append(("phq2", "", {"q1": low_mood, "q2": _clamp(mood - low_mood, 0, 3)}))
        for instrument, region, items in record:
            assessment_record(
                patient=patient,
                instrument=instrument,
                items=items,
                body_region=region,
                taken_at=taken_at,
                by=Actor.seeding(ctx.made["physician"]),
            )
    plan.extra["last_nrs"] = _clamp(pain, 0, 10)


def _build_chart(ctx: DemoContext, patient: Patient, plan: ChartPlan) -> None:
    _medications(ctx, patient, plan)
    _allergies_conditions_devices(ctx, patient, plan)
    _assessments(ctx, patient, plan)


def _patients_with_charts(patients: list[Patient]) -> set:
    ids = [patient.pk for patient in patients]
    charted = set()
    for model in (Allergy, Medication, Condition, ImplantedDevice, Assessment):
        charted |= set(model.objects.filter(patient__in=ids).values_list("patient_id", flat=True))
    return charted


# --- The likely duplicate ---------------------------------------------------------------

# How a hurried online registration spells some of the demo last names.
MISSPELLINGS = {
    "Martinez": "Martines",
    "Johnson": "Jonson",
    "Williams": "Wiliams",
    "Rodriguez": "Rodriquez",
    "Thompson": "Thomson",
    "Phillips": "Philips",
    "Mitchell": "Mitchel",
    "Campbell": "Campbel",
    "Anderson": "Andersen",
    "Robinson": "Robinsen",
    "Harris": "Haris",
}


def _duplicate_person(ctx: DemoContext, patients: list[Patient]) -> dict | None:
    """Someone who registered online again, misspelling their last name."""
    candidates = [p for p in patients[1:] if p.legal_last_name in MISSPELLINGS]
    if not candidates:
        return None
    original = ctx.rng.choice(candidates)
    last = MISSPELLINGS[original.legal_last_name]
    return {
        "legal_first_name": original.legal_first_name,
        "legal_last_name": last,
        "date_of_birth": original.date_of_birth,
        "sex": original.sex,
        "phone": original.phone,
        "email": f"{original.legal_first_name}.{last}@example.com".lower(),
        "home_location": original.home_location,
        "needs_verification": True,
    }


# --- The seeders ------------------------------------------------------------------------


def seed(ctx: DemoContext) -> None:
    locations = ctx.made["locations"]
    existing = {
        patient.email: patient
        for patient in Patient.objects.filter(email__endswith="@example.com").select_related(
            "home_location"
        )
    }
    patients, created = [], 0
    for index in range(ctx.patient_count):
        person = _demo_person(ctx, index, locations[index % len(locations)])
        patient = existing.get(person["email"])
        if patient is None:
            patient = patient_create(by=Actor.seeding(ctx.made["frontdesk"]), **person)
            created += 1
        patients.append(patient)
    plans = _plan_charts(ctx, len(patients))

    duplicate = _duplicate_person(ctx, patients)
    if duplicate and duplicate["email"] not in existing:
        patient_create(by=Actor.seeding(ctx.made["frontdesk"]), **duplicate)
        created += 1

    charted = _patients_with_charts(patients)
    built = 0
    for patient, plan in zip(patients, plans, strict=True):
        if patient.pk not in charted:
            _build_chart(ctx, patient, plan)
            built += 1

    ctx.made["patients"] = patients
    ctx.made["chart plans"] = plans
    demo = Patient.objects.filter(email__endswith="@example.com")
    chart_counts = {
        "medications": Medication.objects.filter(patient__in=demo).count(),
        "allergies": Allergy.objects.filter(patient__in=demo).count(),
        "conditions": Condition.objects.filter(patient__in=demo).count(),
        "devices": ImplantedDevice.objects.filter(patient__in=demo).count(),
        "assessments": Assessment.objects.filter(patient__in=demo).count(),
    }
    ctx.counts["patients"] = demo.count()
    ctx.counts["patients created"] = created
    ctx.counts["charts built"] = built
    ctx.counts |= chart_counts
    ctx.counts["duplicate pairs"] = DuplicateCandidate.objects.filter(
        status=DuplicateStatus.OPEN, patient__in=demo
    ).count()


# --- Intakes waiting for review ---------------------------------------------------------

CHIEF_COMPLAINTS = {
    BodyRegion.LOW_BACK: "Low back pain that goes down the left leg",
    BodyRegion.NECK: "Neck pain with tingling into the right hand",
    BodyRegion.KNEE: "Right knee pain, worse on stairs",
    BodyRegion.SACROILIAC: "Pain in the right buttock when getting up from a chair",
    BodyRegion.HIP: "Left hip and groin pain when walking",
    BodyRegion.SHOULDER: "Right shoulder pain that wakes me at night",
    BodyRegion.HEAD: "Headaches that start at the back of the head",
    BodyRegion.WIDESPREAD: "Aching all over, worst in the mornings",
    BodyRegion.LEG: "Burning pain in both feet",
}
TREATMENTS = [
    "physical therapy",
    "home exercises",
    "heat and ice",
    "ibuprofen",
    "chiropractic care",
    "massage",
    "acupuncture",
    "TENS unit",
    "epidural steroid injection",
]
DURATIONS = ["3 months", "6 months", "about a year", "2 years", "over 5 years"]
# Medications a patient may report starting elsewhere, checked against the current list.
REPORTED_MEDICATIONS = [
    {"name": "pregabalin", "drug_class": DrugClass.GABAPENTINOID, "dose": "75 mg"},
    {"name": "naproxen", "drug_class": DrugClass.NSAID, "dose": "220 mg"},
    {"name": "duloxetine", "drug_class": DrugClass.ANTIDEPRESSANT, "dose": "30 mg"},
]


def _answers(rng, regions, *, complaint=None, onset=None, positive=()) -> dict:
    return {
        "chief_complaint": complaint or CHIEF_COMPLAINTS[regions[0]],
        "pain_locations": list(regions),
        "onset": onset or rng.choice(["gradual", "gradual", "sudden", "after_injury"]),
        "pain_duration": rng.choice(DURATIONS),
        "treatments_tried": rng.sample(TREATMENTS, rng.randint(1, 4)),
        "red_flags": {key: key in positive for key in RED_FLAGS},
    }


def _nrs(regions, score: int) -> list[dict]:
    return [
        {"instrument": "nrs", "body_region": region, "items": {"score": max(0, score - n)}}
        for n, region in enumerate(regions)
    ]


def _free_phone(patient: Patient) -> str:
    """A fictional 555-01xx number in the patient's area code that no patient has."""
    area = patient.phone[2:5] if patient.phone else AREA_CODES["raleigh"]
    taken = set(
        Patient.objects.filter(phone__startswith=f"+1{area}5550").values_list("phone", flat=True)
    )
    for last in range(199, 99, -1):
        phone = f"+1{area}5550{last}"
        if phone not in taken:
            return phone
    return patient.phone


def _intake_specs(ctx: DemoContext, patients: list, plans: list) -> list:
    """(patient, intake_submit arguments) for a handful of intakes, each one different."""
    rng = ctx.rng
    today = timezone.localdate()
    pairs = list(zip(patients, plans, strict=True))
    first, first_plan = pairs[0]
    rest = pairs[1:]
    rng.shuffle(rest)

    def take(test):
        for n, (_patient, plan) in enumerate(rest):
            if test(plan):
                return rest.pop(n)
        return rest.pop(0) if rest else (None, None)

    specs = []
    # 1. The portal patient: a new phone number and a medication started elsewhere.
    current = set(first.medications.values_list("drug_class", flat=True))
    reported = next(
        (m for m in REPORTED_MEDICATIONS if m["drug_class"] not in current),
        REPORTED_MEDICATIONS[0],
    )
    specs.append(
        (
            first,
            {
                "answers": _answers(rng, first_plan.regions),
                "demographics": {"phone": _free_phone(first)},
                "medications": [
                    {
                        **reported,
                        "frequency": "twice daily",
                        "start_date": today - timedelta(days=21),
                        "notes": "Started by my primary care doctor.",
                    }
                ],
                "assessments": _nrs(first_plan.regions, 6),
            },
        )
    )
    # 2. Urgent: leg weakness getting worse (possible cauda equina or severe radiculopathy).
    patient, plan = take(lambda p: p.regions[0] == BodyRegion.LOW_BACK)
    if patient:
        regions = [BodyRegion.LOW_BACK, BodyRegion.LEG]
        specs.append(
            (
                patient,
                {
                    "answers": _answers(
                        rng,
                        regions,
                        complaint="Low back pain, and my right leg has been getting weaker "
                        "this week; I keep tripping over my foot",
                        onset="sudden",
                        positive={"progressive_leg_weakness"},
                    ),
                    "assessments": _nrs(regions, 9),
                },
            )
        )
    # 3. Urgent: night pain and weight loss in a patient with a history of cancer.
    patient, plan = take(lambda p: p.cancer)
    if patient:
        specs.append(
            (
                patient,
                {
                    "answers": _answers(
                        rng,
                        plan.regions,
                        complaint="The pain is now worse at night and when resting, and I "
                        "have lost 15 pounds without trying",
                        onset="gradual",
                        positive={
                            "cancer_history",
                            "unexplained_weight_loss",
                            "pain_worse_at_night_or_rest",
                        },
                    ),
                    "assessments": _nrs(plan.regions, 7),
                },
            )
        )
    # 4. A newly started anticoagulant and a new allergy, before a planned injection.
    patient, plan = take(lambda p: p.bleeding is None and p.allergy is None)
    if patient:
        specs.append(
            (
                patient,
                {
                    "answers": _answers(rng, plan.regions),
                    "medications": [
                        {
                            "name": "apixaban",
                            "drug_class": DrugClass.DOAC,
                            "dose": "5 mg",
                            "frequency": "twice daily",
                            "start_date": today - timedelta(days=10),
                            "notes": "New atrial fibrillation, started by cardiology.",
                        }
                    ],
                    "allergies": [
                        {
                            "substance": "Iodinated contrast",
                            "reaction": "hives",
                            "severity": AllergySeverity.MODERATE,
                            "procedure_class": ProcedureAllergyClass.IODINATED_CONTRAST,
                        }
                    ],
                    "assessments": _nrs(plan.regions, plan.extra.get("last_nrs", 6)),
                },
            )
        )
    # 5. A follow-up with function and mood scores only.
    patient, plan = take(lambda p: p.regions[0] == BodyRegion.NECK)
    if patient:
        specs.append(
            (
                patient,
                {
                    "answers": _answers(rng, plan.regions),
                    "assessments": [
                        *_nrs(plan.regions, 5),
                        {"instrument": "peg", "items": {"pain": 5, "enjoyment": 6, "activity": 4}},
                        {"instrument": "phq2", "items": {"q1": 1, "q2": 1}},
                    ],
                },
            )
        )
    return specs


def seed_intakes(ctx: DemoContext) -> None:
    """A few submitted intakes waiting for review; runs after the portal login is linked."""
    patients, plans = ctx.made["patients"], ctx.made["chart plans"]
    with_intake = set(
        IntakeSubmission.objects.filter(patient__in=patients).values_list("patient_id", flat=True)
    )
    for patient, arguments in _intake_specs(ctx, patients, plans):
        if patient.pk in with_intake:
            continue
        intake_submit(
            patient=patient, by=Actor.seeding(patient.user or ctx.made["frontdesk"]), **arguments
        )
    demo = Patient.objects.filter(email__endswith="@example.com")
    waiting = IntakeSubmission.objects.filter(patient__in=demo, status=IntakeStatus.SUBMITTED)
    ctx.counts["open intakes"] = waiting.count()
    ctx.counts["urgent intakes"] = waiting.filter(urgent=True).count()
