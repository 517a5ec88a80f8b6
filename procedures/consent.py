"""Informed consent for a procedure: the catalog's risks to discuss, recording a consent, and
which consent a performed procedure has.

The shared clinical facts (procedures.csv) list no consent risks, so the catalog's lists come
from procedures/data/extra/consent_risks.csv: common elements of interventional pain consent
forms, each flagged uncertain (`uncertain_fields` holds "consent_risks") until a manager
checks the list against the clinic's own consent form in the admin.
"""

import csv
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clinic.audit.writes import written_as_actor
from clinic.core.errors import Conflict, Forbidden
from clinic.users.actor import Actor
from clinic.users.roles import Role
from patients.services import full_clean_or_fail

from .catalog import DATA
from .models import (
    ConsentGiver,
    OrderStatus,
    ProcedureConsent,
    ProcedureOrder,
    ProcedureRecord,
)

RISKS_FILE = DATA / "extra" / "consent_risks.csv"
UNCERTAIN_FIELD = "consent_risks"
CONSENT_AFTER_PROCEDURE = "Consent is taken before the procedure, which was performed at {at}."


def consent_risk_lists(families: dict[str, str]) -> dict[str, list[str]]:
    """{code: risks} for the catalog's procedures ({code: family}): the rows for every
    procedure, then its family's, then its own code's."""
    with RISKS_FILE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        code: [
            row["risk"]
            for row in rows
            if row["applies_to"] in ("all", f"family:{family}", f"code:{code}")
        ]
        for code, family in families.items()
    }


def add_consent_risks(apps, schema_editor=None) -> None:
    """RunPython (and after a test flush): give each catalog entry without a risk list the
    shipped one, flagged for a clinician to confirm; a manager's own list is kept."""
    model = apps.get_model("procedures", "ProcedureType")
    types = list(model.objects.filter(consent_risks=[]))
    risks = consent_risk_lists({t.code: t.family for t in types})
    for procedure_type in types:
        procedure_type.consent_risks = risks[procedure_type.code]
        if UNCERTAIN_FIELD not in procedure_type.uncertain_fields:
            procedure_type.uncertain_fields = [*procedure_type.uncertain_fields, UNCERTAIN_FIELD]
        procedure_type.save(update_fields=["consent_risks", "uncertain_fields"])


def require_physician(by: Actor, action: str) -> None:
    """Consents and notes are a clinician's to write (managers read them)."""
    if not by.has_role(Role.CLINICIAN) or by.user is None:
        raise Forbidden(f"Only a signed-in clinician may {action}.")


def _timing_errors(order: ProcedureOrder, obtained_at: datetime | None) -> dict:
    if obtained_at is None:
        return {}
    if obtained_at > timezone.now():
        return {"obtained_at": ["Consent cannot be recorded before it is taken."]}
    record = ProcedureRecord.objects.filter(order=order).only("performed_at", "patient_id").first()
    if record is not None and obtained_at > record.performed_at:
        at = timezone.localtime(record.performed_at).strftime("%Y-%m-%d %H:%M")
        return {"obtained_at": [CONSENT_AFTER_PROCEDURE.format(at=at)]}
    return {}


def _risk_errors(order: ProcedureOrder, risks: list[str]) -> dict:
    if not risks:
        return {"risks_discussed": ["Tick the risks you discussed."]}
    unknown = [risk for risk in risks if risk not in order.procedure_type.consent_risks]
    if unknown:
        return {"risks_discussed": ["Choose the risks from the procedure's list."]}
    return {}


@written_as_actor
@transaction.atomic
def consent_record(
    *,
    order: ProcedureOrder,
    by: Actor,
    risks_discussed: list[str],
    obtained_at: datetime | None = None,
    given_by: str = ConsentGiver.PATIENT,
    representative_name: str = "",
    representative_relationship: str = "",
    other_risks: str = "",
    alternatives_discussed: bool = False,
    questions_answered: bool = False,
) -> ProcedureConsent:
    """A clinician records the consent they took for an order, before its procedure."""
    require_physician(by, "record a consent")
    order = (
        ProcedureOrder.objects.select_for_update().select_related("procedure_type").get(pk=order.pk)
    )
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(
            "The order is cancelled: there is no procedure to consent to.", code="order_closed"
        )
    obtained_at = obtained_at or timezone.now()
    consent = ProcedureConsent(
        order=order,
        patient_id=order.patient_id,
        given_by=given_by,
        representative_name=representative_name.strip(),
        representative_relationship=representative_relationship.strip(),
        risks_discussed=list(risks_discussed),
        other_risks=other_risks.strip(),
        alternatives_discussed=alternatives_discussed,
        questions_answered=questions_answered,
        obtained_by=by.user,
        obtained_at=obtained_at,
    )
    errors = _timing_errors(order, obtained_at) | _risk_errors(order, list(risks_discussed))
    if given_by == ConsentGiver.REPRESENTATIVE and not consent.representative_name:
        errors["representative_name"] = ["Name the representative who gave consent."]
    full_clean_or_fail(consent, errors=errors)
    consent.save()
    return consent


def consent_before(record: ProcedureRecord) -> ProcedureConsent | None:
    """The latest consent for the record's order taken before the procedure, if any."""
    if record.order_id is None:
        return None
    return (
        ProcedureConsent.objects.filter(
            order_id=record.order_id, obtained_at__lte=record.performed_at
        )
        .select_related("obtained_by")
        .order_by("-obtained_at")
        .first()
    )


def consents_for(order: ProcedureOrder) -> list[ProcedureConsent]:
    return list(order.consents.select_related("obtained_by").order_by("-obtained_at"))
