"""Reads of patient data. Which rows a user may see is decided here, by the queryset."""

import re
from datetime import date, datetime

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Upper
from django.http import Http404
from django.utils import timezone

from clinic.core.ids import NOT_AN_ID
from clinic.core.phones import normalize_phone
from clinic.users.roles import CLINICAL_ROLES, Role

from .models import (
    BLEEDING_RISK_CLASSES,
    Allergy,
    Assessment,
    Condition,
    DrugClass,
    DrugName,
    DuplicateCandidate,
    DuplicateStatus,
    ImplantedDevice,
    IntakeItem,
    IntakeItemKind,
    IntakeStatus,
    IntakeSubmission,
    LabResult,
    Medication,
    NameKind,
    Patient,
)

# What a malformed id raises on the way to the database: a 404 like any unknown id.
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def _as_date(token: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(token, fmt).date()  # noqa: DTZ007 - only the date is kept
        except ValueError:
            continue
    return None


def _phone_query(digits: str) -> Q | None:
    if len(digits) >= 10:
        try:
            return Q(phone=normalize_phone(digits))
        except Exception:  # not a valid number: search by its last digits instead
            return Q(phone__endswith=digits[-10:])
    if len(digits) >= 4:
        return Q(phone__endswith=digits)
    return None


def _token_query(token: str) -> Q:
    """One search word: a date of birth, an MRN, a phone number, or part of a name."""
    born = _as_date(token)
    if born:
        return Q(date_of_birth=born)
    if re.fullmatch(r"[\d()+.\-]+", token):
        digits = re.sub(r"\D", "", token)
        query = Q(mrn=digits) if len(digits) == 8 else Q(pk__in=[])
        phone = _phone_query(digits)
        return query | phone if phone else query
    return (
        Q(legal_last_name__icontains=token)
        | Q(legal_first_name__icontains=token)
        | Q(preferred_name__icontains=token)
    )


def patient_search(*, query: str = "", include_merged: bool = False) -> QuerySet[Patient]:
    """Staff lookup by name, MRN, date of birth or phone; every word must match."""
    patients = Patient.objects.select_related("home_location")
    if not include_merged:
        patients = patients.filter(merged_into__isnull=True)
    return patients_matching(patients, query=query)


def patients_matching(patients: QuerySet[Patient], *, query: str) -> QuerySet[Patient]:
    """The `patients` every word of `query` matches (name, MRN, date of birth or phone),
    sorted by name."""
    tokens = [t for t in re.split(r"[\s,]+", query.strip()) if t]
    if len(tokens) > 1 and all(re.fullmatch(r"[\d()+.\-]+", t) for t in tokens):
        tokens = ["".join(tokens)]  # "(919) 555-0142" is one phone number
    for token in tokens[:6]:
        patients = patients.filter(_token_query(token))
    if any(len(t) >= 3 and t.isalpha() for t in tokens):
        # Sorting on an expression keeps PostgreSQL from walking the whole name index in
        # order (slow for common names); the trigram indexes find the rows and a small sort
        # follows. Measured in bench/patient_search.py.
        return patients.order_by(Upper("legal_last_name"), Upper("legal_first_name"), "mrn")
    return patients.order_by("legal_last_name", "legal_first_name", "mrn")


def patients_visible_to(user) -> QuerySet[Patient]:
    """Staff see every record; a patient sees only their own; anyone else nothing."""
    if user.is_authenticated and user.is_clinic_staff:
        return Patient.objects.all()
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def patients_listed_for(user) -> QuerySet[Patient]:
    """The patient list: staff get every record not merged away, by name; a patient their
    own."""
    if user.is_authenticated and user.is_clinic_staff:
        return patient_search()
    return patients_visible_to(user).select_related("home_location")


def patient_for(user, patient_id) -> Patient:
    """The patient if this user may see it, else 404 (never a hint that it exists)."""
    try:
        return patients_visible_to(user).select_related("home_location", "payer").get(pk=patient_id)
    except (Patient.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def may_see_clinical(user, patient: Patient) -> bool:
    """Clinicians and managers see clinical lists; a patient sees their own; front desk not."""
    if user.has_role(*CLINICAL_ROLES):
        return True
    return user.has_role(Role.PATIENT) and patient.user_id == user.id


def clinical_patient_for(user, patient_id) -> Patient:
    patient = patient_for(user, patient_id)
    if not may_see_clinical(user, patient):
        raise Http404
    return patient


CHART_LABS = 10  # the newest lab results the chart shows


def chart_summary(*, patient: Patient) -> dict:
    """Current allergies, medications (bleeding-relevant first), conditions, devices and the
    latest score of each instrument (NRS per region), in a fixed number of queries."""
    today = timezone.localdate()
    current = Q(end_date__isnull=True) | Q(end_date__gt=today)
    medications = sorted(
        Medication.objects.filter(current, patient=patient),
        key=lambda m: (not m.affects_bleeding, m.name.lower()),
    )
    latest: dict[tuple[str, str], Assessment] = {}
    for assessment in Assessment.objects.filter(patient=patient).order_by("-taken_at"):
        key = (assessment.instrument, assessment.body_region)
        latest.setdefault(key, assessment)
    return {
        "allergies": list(Allergy.objects.filter(current, patient=patient)),
        "medications": medications,
        "conditions": list(Condition.objects.filter(current, patient=patient)),
        "devices": list(ImplantedDevice.objects.filter(current, patient=patient)),
        "latest_scores": sorted(latest.values(), key=lambda a: (a.instrument, a.body_region)),
        "labs": list(LabResult.objects.filter(patient=patient)[:CHART_LABS]),
    }


def intake_queue(*, user) -> QuerySet[IntakeSubmission]:
    """Submissions waiting for review: urgent first, then oldest first."""
    queue = IntakeSubmission.objects.filter(status=IntakeStatus.SUBMITTED).select_related("patient")
    if not user.has_role(*CLINICAL_ROLES):
        # The front desk reviews only demographic items.
        queue = queue.filter(items__kind=IntakeItemKind.DEMOGRAPHIC, items__decision="pending")
        queue = queue.distinct()
    return queue.order_by("-urgent", "submitted_at")


def intakes_visible_to(user) -> QuerySet[IntakeSubmission]:
    """Intakes of the patients this user may see, each with the items it may see: the
    front desk sees only the demographic items."""
    items = IntakeItem.objects.select_related("decided_by")
    if not user.has_role(*CLINICAL_ROLES, Role.PATIENT):
        items = items.filter(kind=IntakeItemKind.DEMOGRAPHIC)
    return (
        IntakeSubmission.objects.filter(patient__in=patients_visible_to(user))
        .exclude(status=IntakeStatus.DRAFT)
        .select_related("patient", "submitted_by")
        .prefetch_related(Prefetch("items", queryset=items))
    )


def intake_for(user, intake_id) -> IntakeSubmission:
    """An intake with the items this user may see, else 404."""
    try:
        return intakes_visible_to(user).get(pk=intake_id)
    except (IntakeSubmission.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def duplicates_open() -> QuerySet[DuplicateCandidate]:
    return DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).select_related(
        "patient", "match"
    )


def duplicate_for(candidate_id) -> DuplicateCandidate:
    """A duplicate pair (staff only; callers check the role), whatever its status."""
    try:
        return DuplicateCandidate.objects.select_related("patient", "match").get(pk=candidate_id)
    except (DuplicateCandidate.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def duplicates_open_for(patient: Patient) -> int:
    """How many open pairs list this record as the newcomer."""
    return DuplicateCandidate.objects.filter(patient=patient, status=DuplicateStatus.OPEN).count()


def intakes_of(patient: Patient) -> list[IntakeSubmission]:
    """The patient's sent intakes; a draft is the patient's own until it is sent."""
    return list(
        patient.intakes.exclude(status=IntakeStatus.DRAFT).order_by("-submitted_at", "-created_at")
    )


def intake_open_for(patient: Patient) -> IntakeSubmission | None:
    """The patient's draft if there is one, else an intake waiting for review, else None:
    one query, whatever the size of the draft."""
    rank = Case(
        When(status=IntakeStatus.DRAFT, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        IntakeSubmission.objects.filter(
            patient=patient, status__in=[IntakeStatus.DRAFT, IntakeStatus.SUBMITTED]
        )
        .order_by(rank, "-submitted_at")
        .first()
    )


def intake_latest_sent(patient: Patient) -> IntakeSubmission | None:
    return (
        IntakeSubmission.objects.filter(patient=patient)
        .exclude(status=IntakeStatus.DRAFT)
        .order_by("-submitted_at", "-created_at")
        .first()
    )


def intake_item_for(intake: IntakeSubmission, item_id) -> IntakeItem:
    """Any item of an intake the user may see, clinical or not: the decide service says who
    may decide it (the front desk gets a 403 on a clinical item, not a 404)."""
    try:
        return IntakeItem.objects.get(pk=item_id, submission=intake)
    except (IntakeItem.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


# --- The drug vocabulary, as patients name their medicines ----------------------------------

# What patients call blood thinners: the anticoagulants and antiplatelets. Not the NSAIDs
# (listed among the medicines), nor the GP IIb/IIIa inhibitors, given only in hospital.
BLOOD_THINNER_CLASSES = BLEEDING_RISK_CLASSES - {DrugClass.NSAID, DrugClass.GP2B3A_INHIBITOR}


def blood_thinner_choices() -> list[tuple[str, str]]:
    """The blood thinners a patient may pick, one per generic with its confirmed brands
    ("warfarin", "Coumadin, Jantoven (warfarin)"), in the order of their labels. A generic
    whose only brand a clinician has not confirmed yet is left out. One query."""
    rows = DrugName.objects.filter(drug_classes__overlap=sorted(BLOOD_THINNER_CLASSES)).exclude(
        kind=NameKind.COMBINATION
    )
    generics: set[str] = set()
    brands: dict[str, list[str]] = {}
    unconfirmed: set[str] = set()
    for row in rows.only("name", "generics", "kind", "certain"):
        if len(row.generics) != 1:
            continue
        generic = row.generics[0]
        if row.kind != NameKind.BRAND:
            generics.add(generic)
        elif row.certain:
            brands.setdefault(generic, []).append(row.name)
        else:
            unconfirmed.add(generic)
    choices = [
        (generic, f"{', '.join(brands[generic])} ({generic})")
        if generic in brands
        else (generic, generic.capitalize())
        for generic in generics | set(brands)
        if generic in brands or generic not in unconfirmed
    ]
    return sorted(choices, key=lambda choice: choice[1].casefold())
