import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import RequestFactory, override_settings
from django.utils import timezone

from clinic.users.models import User
from clinic.users.roles import Role
from patients.models import (
    BLEEDING_RISK_CLASSES,
    Allergy,
    Assessment,
    Condition,
    ConditionKind,
    DeviceKind,
    DrugClass,
    DuplicateCandidate,
    DuplicateStatus,
    ImplantedDevice,
    IntakeItem,
    IntakeItemKind,
    IntakeStatus,
    IntakeSubmission,
    Medication,
    Patient,
    ProcedureAllergyClass,
)
from patients.questionnaire import RED_FLAGS
from sites.models import Location, Provider, ProviderKind, Room, RoomKind

pytestmark = pytest.mark.django_db


CHART_TABLES = [
    Allergy,
    Medication,
    Condition,
    ImplantedDevice,
    Assessment,
    IntakeSubmission,
    IntakeItem,
    DuplicateCandidate,
]
# The drugs of anticoagulants.csv (ASRA) that a demo chart must show, NSAIDs aside.
ANTITHROMBOTIC = BLEEDING_RISK_CLASSES - {DrugClass.NSAID}
EXPECTED_CLASSES = {
    "gabapentin": DrugClass.GABAPENTINOID,
    "pregabalin": DrugClass.GABAPENTINOID,
    "duloxetine": DrugClass.SNRI,  # the drug vocabulary's class (drug_names.csv, Cymbalta)
    "cyclobenzaprine": DrugClass.MUSCLE_RELAXANT,
    "meloxicam": DrugClass.NSAID,
    "naproxen": DrugClass.NSAID,
    "tramadol": DrugClass.OPIOID,
    "oxycodone": DrugClass.OPIOID,
    "metformin": DrugClass.ANTIDIABETIC,
    "aspirin": DrugClass.ANTIPLATELET,
    "clopidogrel": DrugClass.P2Y12_INHIBITOR,
    "apixaban": DrugClass.DOAC,
    "rivaroxaban": DrugClass.DOAC,
    "warfarin": DrugClass.VITAMIN_K_ANTAGONIST,
    "enoxaparin": DrugClass.LMWH,
}


def signing_in():
    """authenticate() needs the request: sign-in limits (django-axes) count by its address."""
    return RequestFactory().post("/accounts/login/")


def seed(**options) -> str:
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "100", stdout=out, **options)
    return out.getvalue()


def demo_counts() -> dict:
    return {
        "locations": Location.objects.count(),
        "rooms": Room.objects.count(),
        "providers": Provider.objects.count(),
        "patients": Patient.objects.count(),
        "users": User.objects.count(),
    } | {model._meta.label: model.objects.count() for model in CHART_TABLES}


def current(prefix: str = "") -> Q:
    today = timezone.localdate()
    return Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": today})


def test_demo_clinic_is_believable():
    seed(password="demo-password-1")
    locations = list(Location.objects.all())
    assert len(locations) == 2
    winter_noon = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    offsets = {winter_noon.astimezone(ZoneInfo(loc.time_zone)).utcoffset() for loc in locations}
    assert len(offsets) == 2, "the two sites are in different US time zones"
    assert all(loc.time_zone.startswith("America/") for loc in locations)
    assert Provider.objects.filter(kind=ProviderKind.PHYSICIAN).count() >= 3
    for location in locations:
        kinds = set(location.rooms.values_list("kind", flat=True))
        assert RoomKind.CONSULT in kinds
        assert RoomKind.FLUOROSCOPY in kinds
        assert location.providers.exists()
    # 100 patients and one who registered again online (the likely duplicate).
    assert Patient.objects.filter(needs_verification=False).count() == 100
    assert Patient.objects.count() == 101
    assert Patient.objects.filter(home_location__isnull=True).count() == 0
    assert Patient.objects.values("mrn").distinct().count() == 101
    fictional = re.compile(r"^\+1(919|303)5550(1\d\d)$")
    assert all(fictional.match(phone) for phone in Patient.objects.values_list("phone", flat=True))
    assert all(
        email.endswith("@example.com") for email in Patient.objects.values_list("email", flat=True)
    )
    assert_physician_has_procedures_today()


def assert_physician_has_procedures_today() -> None:
    """The demo physician's worklist: visits for an ordered procedure later today, in the
    site's own today."""
    from history.worklist import todays_procedures

    physician = Provider.objects.get(user__username="physician")
    rows = [a for a in todays_procedures().rows if a.provider_id == physician.pk]
    assert len(rows) >= 2, "the demo physician has procedure patients today"
    assert all(a.start > timezone.now() and a.procedure_order_id for a in rows)


# Saturday 4 July 2026, 23:30 in New York (21:30 in Denver): the clinic's weekly hours are
# weekdays only, and the evening leaves little of the day.
SATURDAY_NIGHT = datetime(2026, 7, 5, 3, 30, tzinfo=UTC)


def test_the_physician_has_procedure_patients_today_even_on_a_saturday_night(clock):
    clock.move_to(SATURDAY_NIGHT)
    seed(password="demo-password-1")
    assert_physician_has_procedures_today()


def test_demo_accounts_sign_in_with_their_roles():
    seed(password="demo-password-1")
    expected = {
        "admin": Role.MANAGER,
        "frontdesk": Role.FRONT_DESK,
        "physician": Role.CLINICIAN,
        "patient": Role.PATIENT,
    }
    for username, role in expected.items():
        user = authenticate(signing_in(), username=username, password="demo-password-1")
        assert user is not None, username
        assert user.role == role
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="physician").provider.kind == ProviderKind.PHYSICIAN
    assert User.objects.get(username="patient").patient is not None


def check_medications_are_believable():
    for name, drug_class in EXPECTED_CLASSES.items():
        classes = set(Medication.objects.filter(name=name).values_list("drug_class", flat=True))
        assert classes == {drug_class}, name
    on_antithrombotic = (
        Patient.objects.filter(current("medications__"), medications__drug_class__in=ANTITHROMBOTIC)
        .distinct()
        .count()
    )
    assert 10 <= on_antithrombotic <= 25, "about 15% on a drug of anticoagulants.csv"
    assert all(
        dose and frequency
        for dose, frequency in Medication.objects.values_list("dose", "frequency")
    )
    assert Medication.objects.filter(name="warfarin", drug_class="vitamin_k_antagonist").exists()
    assert Medication.objects.filter(name="apixaban", dose="5 mg", frequency="twice daily").exists()
    # Most patients take one to four pain medications; nobody on an anticoagulant takes an NSAID.
    pain = [
        DrugClass.GABAPENTINOID,
        DrugClass.ANTIDEPRESSANT,
        DrugClass.SNRI,
        DrugClass.MUSCLE_RELAXANT,
        DrugClass.NSAID,
        DrugClass.OPIOID,
    ]
    per_patient = Patient.objects.filter(needs_verification=False).annotate(
        pain=Count(
            "medications", filter=current("medications__") & Q(medications__drug_class__in=pain)
        )
    )
    assert sum(1 <= p.pain <= 4 for p in per_patient) >= 70
    assert not (
        Patient.objects.filter(current("medications__"), medications__drug_class__in=ANTITHROMBOTIC)
        .filter(medications__drug_class=DrugClass.NSAID, medications__end_date__isnull=True)
        .exists()
    )
    # Every entry went through the service: attributed to the physician, as staff.
    physician = User.objects.get(username="physician")
    assert set(Medication.objects.values_list("recorded_by", "source").distinct()) == {
        (physician.pk, "staff")
    }


def check_allergies_conditions_and_devices_are_believable():
    allergic = Patient.objects.filter(allergies__isnull=False).distinct().count()
    assert 20 <= allergic <= 40, "about 30% have an allergy"
    assert Allergy.objects.filter(
        procedure_class=ProcedureAllergyClass.IODINATED_CONTRAST, reaction="hives"
    ).exists()
    for procedure_class in (ProcedureAllergyClass.LATEX, ProcedureAllergyClass.CHLORHEXIDINE):
        assert Allergy.objects.filter(procedure_class=procedure_class).exists()
    assert Allergy.objects.filter(substance="Penicillin", procedure_class="").exists()

    diabetic = set(
        Condition.objects.filter(kind=ConditionKind.DIABETES).values_list("patient", flat=True)
    )
    assert 15 <= len(diabetic) <= 25, "about 20% have diabetes"
    on_antidiabetic = set(
        Medication.objects.filter(drug_class=DrugClass.ANTIDIABETIC).values_list(
            "patient", flat=True
        )
    )
    assert diabetic == on_antidiabetic
    assert Condition.objects.filter(kind=ConditionKind.CANCER_HISTORY).count() >= 3
    assert 1 <= Condition.objects.filter(kind=ConditionKind.BLEEDING_DISORDER).count() <= 2
    paced = set(
        Condition.objects.filter(kind=ConditionKind.PACEMAKER_ICD).values_list("patient", flat=True)
    )
    with_pacemaker = set(
        ImplantedDevice.objects.filter(kind=DeviceKind.PACEMAKER).values_list("patient", flat=True)
    )
    assert len(paced) >= 2
    assert paced == with_pacemaker
    assert 1 <= ImplantedDevice.objects.filter(kind=DeviceKind.SPINAL_CORD_STIMULATOR).count() <= 2


def check_assessment_histories_are_believable():
    now = timezone.now()
    patients = Patient.objects.filter(needs_verification=False).annotate(
        visits=Count("assessments__taken_at", distinct=True),
        nrs=Count("assessments", filter=Q(assessments__instrument="nrs")),
    )
    for patient in patients:
        assert 2 <= patient.visits <= 6, patient.mrn
        assert patient.nrs >= patient.visits, "an NRS at every visit"
    taken = list(Assessment.objects.values_list("taken_at", flat=True))
    assert all(timezone.is_aware(when) for when in taken)
    assert all(now - timedelta(days=550) < when < now for when in taken)
    assert max(taken) > now - timedelta(days=130), "some visits are recent"
    assert min(taken) < now - timedelta(days=365), "histories go back 12 to 18 months"
    # ODI for back patients, NDI for neck patients, some PEG and PHQ-2.
    odi = set(Assessment.objects.filter(instrument="odi").values_list("patient", flat=True))
    back = set(
        Assessment.objects.filter(
            instrument="nrs", body_region__in=["low_back", "sacroiliac"]
        ).values_list("patient", flat=True)
    )
    assert odi and odi <= back
    ndi = set(Assessment.objects.filter(instrument="ndi").values_list("patient", flat=True))
    neck = set(
        Assessment.objects.filter(instrument="nrs", body_region="neck").values_list(
            "patient", flat=True
        )
    )
    assert ndi and ndi <= neck
    assert Assessment.objects.filter(instrument="peg").exists()
    assert Assessment.objects.filter(instrument="phq2").exists()
    # Plausible courses: many improve, some do not.
    improved = not_improved = 0
    for patient in patients:
        scores = list(
            Assessment.objects.filter(patient=patient, instrument="nrs")
            .order_by("taken_at")
            .values_list("body_region", "total")
        )
        main = [total for region, total in scores if region == scores[0][0]]
        if main[-1] <= main[0] - 2:
            improved += 1
        else:
            not_improved += 1
    assert improved >= 25
    assert not_improved >= 15


def check_intakes_wait_for_review():
    waiting = IntakeSubmission.objects.filter(status=IntakeStatus.SUBMITTED)
    assert 3 <= waiting.count() <= 8
    for intake in waiting:
        assert intake.answers["chief_complaint"]
        assert intake.answers["pain_locations"]
        assert set(intake.answers["red_flags"]) == set(RED_FLAGS)
        assert intake.items.filter(decision="pending").exists()
    urgent = waiting.filter(urgent=True)
    assert any("red_flag:progressive_leg_weakness" in i.urgent_reasons for i in urgent)
    # The portal patient's own intake: a new phone number and a medication started elsewhere.
    portal = Patient.objects.get(user__username="patient")
    mine = waiting.get(patient=portal)
    assert mine.submitted_by == portal.user
    assert not mine.entered_by_staff
    phone = mine.items.get(kind=IntakeItemKind.DEMOGRAPHIC, field="phone")
    assert phone.chart_value_at_submission == portal.phone
    assert phone.proposed != portal.phone
    assert mine.items.filter(kind=IntakeItemKind.MEDICATION).exists()
    # The others were entered by the front desk.
    frontdesk = User.objects.get(username="frontdesk")
    assert set(waiting.exclude(patient=portal).values_list("submitted_by", flat=True)) == {
        frontdesk.pk
    }


def check_has_a_likely_duplicate():
    pair = DuplicateCandidate.objects.get(status=DuplicateStatus.OPEN)
    assert pair.patient.date_of_birth == pair.match.date_of_birth
    assert pair.patient.legal_first_name == pair.match.legal_first_name
    assert pair.patient.legal_last_name != pair.match.legal_last_name
    assert "same date of birth and a similar name" in pair.reasons
    assert pair.patient.needs_verification


@pytest.mark.date_sensitive
def test_demo_charts_are_believable():
    """One seed, several checks: seeding takes seconds, so the checks share it."""
    seed(password="demo-password-1")
    check_medications_are_believable()
    check_allergies_conditions_and_devices_are_believable()
    check_assessment_histories_are_believable()
    check_intakes_wait_for_review()
    check_has_a_likely_duplicate()


def test_seeding_twice_changes_nothing_but_the_password():
    seed(password="demo-password-1")
    first = demo_counts()
    assert all(first[model._meta.label] > 0 for model in CHART_TABLES)
    mrns = set(Patient.objects.values_list("mrn", flat=True))
    output = seed(password="demo-password-2")
    assert "0 patients created, 0 charts built" in output
    assert demo_counts() == first
    assert set(Patient.objects.values_list("mrn", flat=True)) == mrns
    assert authenticate(signing_in(), username="frontdesk", password="demo-password-2")
    assert authenticate(signing_in(), username="frontdesk", password="demo-password-1") is None


def test_refuses_with_debug_off_unless_forced():
    with override_settings(DEBUG=False):
        with pytest.raises(CommandError, match="only runs with DEBUG on"):
            call_command("seed_demo")
        assert Location.objects.count() == 0
        call_command("seed_demo", "--force", "--patients", "3", "--password", "demo-password-3")
    assert Patient.objects.filter(needs_verification=False).count() == 3


def test_rejects_a_short_password():
    with override_settings(DEBUG=True), pytest.raises(CommandError, match="at least 8"):
        call_command("seed_demo", "--password", "short")
