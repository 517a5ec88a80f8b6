"""Who may see what, and where each resource type's rows come from: the querysets a search
pages through, scoped per role the way the rest of the API scopes them (patients.selectors,
scheduling.selectors). A patient sees only their own record; the front desk sees people and
visits but no clinical resources (403); clinicians and managers see everything."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_date

from clinic.users.models import User
from clinic.users.roles import CLINICAL_ROLES, Role
from patients.instrument_codes import instrument_of_loinc
from patients.models import Allergy, Assessment, Condition, Medication, Patient
from patients.selectors import intakes_visible_to, patients_visible_to
from procedures.models import ProcedureOrder, ProcedureRecord
from scheduling.selectors import appointments_visible_to
from sites.models import Location, Provider

from . import params
from .outcome import FhirError, not_found
from .visits import STATUS_OF_FHIR

NOT_CLINICAL = "Your role does not give access to clinical resources."


@dataclass(frozen=True)
class Source:
    """One table a search reads: its filtered rows in a fixed order, how many resources
    they make, and how each row becomes resources."""

    rows: QuerySet | list
    build: Callable[[Any], list[dict]]
    size: Callable[[Any], int] | None = None

    def row_count(self) -> int:
        return self.rows.count() if isinstance(self.rows, QuerySet) else len(self.rows)

    def resource_total(self, row_count: int) -> int:
        """How many resources the rows make: one each unless `size` says otherwise."""
        return self.size(self.rows) if self.size is not None else row_count


def require_signed_in_role(user: User) -> None:
    if user.role is None:
        raise FhirError(403, "Your login has no role in this clinic.")


def require_clinical_access(user: User) -> None:
    """Clinicians, managers and patients (their own) read clinical resources; anyone else
    gets a 403: the front desk books visits, it does not read the chart."""
    if not user.has_role(*CLINICAL_ROLES, Role.PATIENT):
        raise FhirError(403, NOT_CLINICAL)


def clinical_rows(user: User, rows: QuerySet, patient_field: str = "patient") -> QuerySet:
    """Clinical rows this user may read: all for clinicians and managers, a patient's own."""
    require_clinical_access(user)
    if user.has_role(*CLINICAL_ROLES):
        return rows
    return rows.filter(**{f"{patient_field}__user": user})


def by_patient(query: QueryDict, rows: QuerySet, field: str = "patient_id") -> QuerySet:
    wanted = params.ids_of(query, "patient", "Patient") + params.ids_of(query, "subject", "Patient")
    return rows.filter(**{f"{field}__in": wanted}) if wanted else rows


def by_id(query: QueryDict, rows: QuerySet) -> QuerySet:
    texts = [value for text in query.getlist("_id") for value in text.split(",") if value]
    if not texts:
        return rows
    wanted = []
    for text in texts:
        try:
            wanted.append(uuid.UUID(text))
        except ValueError:
            continue  # an id that is not ours matches nothing
    return rows.filter(pk__in=wanted)


def one(rows: QuerySet, resource_id: str) -> Any:
    """The row with this id among `rows`, else a 404 (the same whether it does not exist or
    the caller may not see it)."""
    try:
        return rows.get(pk=uuid.UUID(resource_id))
    except (ValueError, rows.model.DoesNotExist):
        raise not_found(resource_id) from None


# --- People and places --------------------------------------------------------------------


def patient_rows(user: User, query: QueryDict) -> QuerySet[Patient]:
    rows = by_id(query, patients_visible_to(user).select_related("home_location"))
    for _system, code in params.token_codes(query, "identifier"):
        rows = rows.filter(mrn=code)
    for name in query.getlist("name"):
        rows = rows.filter(
            Q(legal_last_name__icontains=name)
            | Q(legal_first_name__icontains=name)
            | Q(preferred_name__icontains=name)
        )
    for family in query.getlist("family"):
        rows = rows.filter(legal_last_name__iexact=family)
    for given in query.getlist("given"):
        rows = rows.filter(Q(legal_first_name__iexact=given) | Q(preferred_name__iexact=given))
    for text in query.getlist("birthdate"):
        rows = rows.filter(date_of_birth=_day(text))
    for gender in query.getlist("gender"):
        rows = rows.filter(sex=gender)
    return rows.order_by("legal_last_name", "legal_first_name", "mrn")


def _day(text: str):
    try:
        day = parse_date(text.removeprefix("eq"))
    except ValueError:
        day = None
    if day is None:
        raise params.invalid("birthdate", f"must be a date (1970-01-31); got {text!r}.")
    return day


def provider_rows(query: QueryDict) -> QuerySet[Provider]:
    rows = by_id(query, Provider.objects.prefetch_related("locations"))
    for _system, code in params.token_codes(query, "identifier"):
        rows = rows.filter(npi=code)
    for name in query.getlist("name"):
        rows = rows.filter(Q(last_name__icontains=name) | Q(first_name__icontains=name))
    practitioners = params.ids_of(query, "practitioner", "Practitioner") + params.ids_of(
        query, "actor", "Practitioner"
    )
    if practitioners:
        rows = rows.filter(pk__in=practitioners)
    return rows.order_by("last_name", "first_name", "id")


def location_rows(query: QueryDict) -> QuerySet[Location]:
    rows = by_id(query, Location.objects.all())
    for name in query.getlist("name"):
        rows = rows.filter(name__icontains=name)
    return rows.order_by("name", "id")


# --- Visits -----------------------------------------------------------------------------


def appointment_rows(user: User, query: QueryDict) -> QuerySet:
    rows = by_patient(query, by_id(query, appointments_visible_to(user)))
    practitioners = params.ids_of(query, "practitioner", "Practitioner") + params.ids_of(
        query, "actor", "Practitioner"
    )
    if practitioners:
        rows = rows.filter(provider_id__in=practitioners)
    locations = params.ids_of(query, "location", "Location")
    if locations:
        rows = rows.filter(location_id__in=locations)
    statuses = [code for _, code in params.token_codes(query, "status")]
    if statuses:
        unknown = [code for code in statuses if code not in STATUS_OF_FHIR]
        if unknown:
            raise params.invalid("status", f"unknown appointment status {unknown[0]!r}.")
        rows = rows.filter(status__in=[ours for code in statuses for ours in STATUS_OF_FHIR[code]])
    return rows.filter(params.date_filter(query, "date", "start")).order_by("start", "id")


# --- The chart --------------------------------------------------------------------------


def chart_rows(user: User, query: QueryDict, rows: QuerySet) -> QuerySet:
    return by_patient(query, by_id(query, clinical_rows(user, rows)))


def procedure_rows(user: User, query: QueryDict) -> QuerySet[ProcedureRecord]:
    rows = ProcedureRecord.objects.select_related(
        "procedure_type", "performer", "location", "order"
    ).prefetch_related("procedure_type__procedure_codes")
    rows = chart_rows(user, query, rows).filter(params.date_filter(query, "date", "performed_at"))
    return rows.order_by("-performed_at", "id")


def condition_rows(user: User, query: QueryDict) -> tuple[QuerySet, QuerySet]:
    conditions = chart_rows(user, query, Condition.objects.all()).order_by("recorded_at", "id")
    indications = chart_rows(user, query, ProcedureOrder.objects.all()).order_by("ordered_at", "id")
    return conditions, indications


def allergy_rows(user: User, query: QueryDict) -> QuerySet[Allergy]:
    return chart_rows(user, query, Allergy.objects.all()).order_by("substance", "id")


def medication_rows(user: User, query: QueryDict) -> QuerySet[Medication]:
    return chart_rows(user, query, Medication.objects.all()).order_by("name", "id")


def assessment_rows(user: User, query: QueryDict) -> QuerySet[Assessment]:
    rows = chart_rows(user, query, Assessment.objects.all())
    instruments = set()
    for _, code in params.token_codes(query, "code"):
        found = instrument_of_loinc(code)
        instruments.add(found[0] if found else code)  # a LOINC code, or our instrument code
    if instruments:
        rows = rows.filter(instrument__in=instruments)
    rows = rows.filter(params.date_filter(query, "date", "taken_at"))
    return rows.order_by("-taken_at", "id")


def observation_count(rows: QuerySet[Assessment]) -> int:
    """Resources the assessments make: each total, and each PHQ-9's nine items (all nine
    are needed to score it)."""
    counts = rows.aggregate(all=Count("id"), itemized=Count("id", filter=Q(instrument="phq9")))
    return counts["all"] + 9 * counts["itemized"]


def intake_rows(user: User, query: QueryDict) -> QuerySet:
    require_clinical_access(user)
    rows = by_patient(query, by_id(query, intakes_visible_to(user)))
    return rows.filter(params.date_filter(query, "authored", "submitted_at")).order_by(
        "submitted_at", "id"
    )


def survey_rows(user: User, query: QueryDict) -> QuerySet[Assessment]:
    rows = chart_rows(user, query, Assessment.objects.all())
    return rows.filter(params.date_filter(query, "authored", "taken_at")).order_by("taken_at", "id")
