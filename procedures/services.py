"""Writes for orders, performed procedures and outcomes. Each state move is checked here."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.states import move_state
from clinic.users.actor import Actor
from patients.instruments import percent_relief
from patients.models import Patient
from patients.services import full_clean_or_fail

from .messages import procedure_recorded
from .models import (
    APPROVAL_NEEDS_NUMBER,
    STEROID_NEEDS_DOSE,
    AuthStatus,
    OrderStatus,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyOverride,
)
from .pumps import with_refill_dates
from .safety import BLOCK, safety_check, steroid_session_excess

TRANSITIONS = {
    OrderStatus.ORDERED: {OrderStatus.AUTHORIZED, OrderStatus.CANCELLED},
    OrderStatus.AUTHORIZED: {OrderStatus.SCHEDULED, OrderStatus.CANCELLED},
    OrderStatus.SCHEDULED: {OrderStatus.PERFORMED, OrderStatus.AUTHORIZED, OrderStatus.CANCELLED},
    OrderStatus.PERFORMED: set(),
    OrderStatus.CANCELLED: set(),
}


# Prior authorization moves: request it, then record the payer's answer. An approval may be
# corrected or renewed (requested again), a denial appealed (requested again), and a payer
# may say none is needed.
AUTH_MOVES: dict[str, set[str]] = {
    AuthStatus.PENDING: {AuthStatus.REQUESTED, AuthStatus.NOT_NEEDED},
    AuthStatus.REQUESTED: {AuthStatus.APPROVED, AuthStatus.DENIED, AuthStatus.NOT_NEEDED},
    AuthStatus.APPROVED: {AuthStatus.APPROVED, AuthStatus.REQUESTED},
    AuthStatus.DENIED: {AuthStatus.REQUESTED},
    AuthStatus.NOT_NEEDED: {AuthStatus.PENDING, AuthStatus.REQUESTED},
}
AUTH_REFUSALS: dict[str, str] = {
    AuthStatus.APPROVED: "request it from the payer first, then record its answer",
    AuthStatus.DENIED: "request it from the payer first, then record its answer",
    AuthStatus.REQUESTED: "it was already requested; record the payer's answer",
}


def auth_answers(auth_status: str) -> list[str]:
    """The payer's answers that may be recorded now (a request is its own action)."""
    return [s for s in AuthStatus.values if s in AUTH_MOVES[auth_status] - {AuthStatus.REQUESTED}]


def _move_auth(order: ProcedureOrder, to: str) -> None:
    if to in AUTH_MOVES[order.auth_status]:
        return
    labels = dict(AuthStatus.choices)
    hint = AUTH_REFUSALS.get(to, "it cannot go back to that")
    raise Conflict(
        f"Prior authorization is {labels[order.auth_status].lower()}, so it cannot become "
        f"{labels[to].lower()}: {hint}.",
        code="illegal_authorization_move",
        auth_status=order.auth_status,
        to=to,
    )


def _require_clinician(by: Actor, action: str) -> None:
    if not by.is_clinician:
        raise Forbidden(f"Only a clinician may {action}.")


def _move(order: ProcedureOrder, to: str) -> None:
    move_state(order, to, TRANSITIONS, "An order")


def _locked(order: ProcedureOrder) -> ProcedureOrder:
    return (
        ProcedureOrder.objects.select_for_update()
        .select_related("procedure_type", "patient")
        .get(pk=order.pk)
    )


def _approval_errors(order: ProcedureOrder) -> dict:
    if order.auth_status != AuthStatus.APPROVED:
        return {}
    missing = [name for name in ("auth_number", "auth_expires") if not getattr(order, name)]
    return {name: [APPROVAL_NEEDS_NUMBER] for name in missing}


def _level_errors(procedure_type: ProcedureType, side: str, levels: list[str]) -> dict:
    errors = {}
    if levels and not procedure_type.levels_apply:
        errors["levels"] = [f"{procedure_type.name} is not done at spinal levels."]
    unknown = [level for level in levels if level not in procedure_type.allowed_levels]
    if procedure_type.levels_apply and unknown:
        errors["levels"] = [f"Not a level for this procedure: {', '.join(unknown)}."]
    if procedure_type.levels_apply and not levels:
        errors["levels"] = ["Give at least one level."]
    if side and not procedure_type.side_applies:
        errors["side"] = [f"{procedure_type.name} has no side."]
    return errors


def order_findings(order: ProcedureOrder, *, today: date | None = None) -> list[dict]:
    """Run the safety check for an order and store what it found."""
    findings = safety_check(
        patient=order.patient,
        procedure_type=order.procedure_type,
        planned_date=order.planned_date or timezone.localdate(),
        side=order.side,
        levels=order.levels,
        order=order,
        today=today,
    )
    order.findings = [f.as_dict() for f in findings]
    order.checked_at = timezone.now()
    return order.findings


def unresolved_blocks(order: ProcedureOrder) -> list[dict]:
    """Blocking findings no clinician has overridden (reads prefetched overrides). A closed
    (performed or cancelled) order has none left to resolve."""
    if order.status in (OrderStatus.PERFORMED, OrderStatus.CANCELLED):
        return []
    overridden = {override.finding_code for override in order.overrides.all()}
    return [f for f in order.findings if f["severity"] == BLOCK and f["code"] not in overridden]


@transaction.atomic
def order_create(
    *,
    patient: Patient,
    procedure_type: ProcedureType,
    by: Actor,
    side: str = "",
    levels: Iterable[str] = (),
    **fields: Any,
) -> ProcedureOrder:
    """A clinician orders a procedure; the safety check runs and its findings are stored."""
    _require_clinician(by, "order a procedure")
    levels = list(levels or [])
    order = ProcedureOrder(
        patient=patient,
        procedure_type=procedure_type,
        side=side,
        levels=levels,
        ordered_by=by.user,
        **fields,
    )
    if order.auth_status == AuthStatus.REQUESTED:  # requested before the order was written
        order.auth_requested_at, order.auth_requested_by = timezone.now(), by.user
    full_clean_or_fail(
        order, errors=_level_errors(procedure_type, side, levels) | _approval_errors(order)
    )
    order_findings(order)
    order.save()
    return order


def _require_open(order: ProcedureOrder) -> None:
    if order.status in (OrderStatus.PERFORMED, OrderStatus.CANCELLED):
        raise Conflict(f"The order is {order.status}.", code="order_closed", status=order.status)


@transaction.atomic
def order_refresh_findings(*, order, planned_date: date | None = None) -> ProcedureOrder:
    """Run the safety check and keep its result on the order (booking does this first, in
    its own transaction, so a refused booking still leaves the findings to override)."""
    order = _locked(order)
    _require_open(order)
    if planned_date is not None:
        order.planned_date = planned_date
    order_findings(order)
    order.save(update_fields=["findings", "checked_at", "planned_date"])
    return order


def order_recheck(*, order: ProcedureOrder, by: Actor) -> ProcedureOrder:
    """A clinician runs the safety check again (the chart or the history changed)."""
    _require_clinician(by, "run the safety check")
    return order_refresh_findings(order=order)


@transaction.atomic
def order_set_authorization(
    *,
    order: ProcedureOrder,
    auth_status: str,
    by: Actor,
    auth_number: str = "",
    auth_expires: date | None = None,
) -> ProcedureOrder:
    """Record the payer's answer, or (`requested`) that it was asked, with who and when
    (staff: the front desk handles prior authorization). An illegal move is a 409."""
    order = _locked(order)
    _require_open(order)
    if auth_status in AuthStatus.values:  # an unknown value is the field error below
        _move_auth(order, auth_status)
    if auth_status == AuthStatus.REQUESTED:
        order.auth_requested_at, order.auth_requested_by = timezone.now(), by.user
    order.auth_status, order.auth_number, order.auth_expires = (
        auth_status,
        auth_number,
        auth_expires,
    )
    full_clean_or_fail(order, errors=_approval_errors(order))
    order_findings(order)
    order.save()
    return order


@transaction.atomic
def order_request_authorization(*, order: ProcedureOrder, by: Actor) -> ProcedureOrder:
    """pending (or denied, or an approval to renew) -> requested: the staff member who sent
    the request to the payer records it; the page's primary action until the payer answers."""
    return order_set_authorization(order=order, auth_status=AuthStatus.REQUESTED, by=by)


@transaction.atomic
def order_authorize(*, order: ProcedureOrder, by: Actor) -> ProcedureOrder:
    """ordered -> authorized, once the payer approved (unexpired) or no approval is needed."""
    order = _locked(order)
    _move(order, OrderStatus.AUTHORIZED)
    approved = order.auth_status == AuthStatus.APPROVED and (
        order.auth_expires is None or order.auth_expires >= timezone.localdate()
    )
    if order.auth_status != AuthStatus.NOT_NEEDED and not approved:
        raise Conflict(
            "Prior authorization is not approved (or has expired).",
            code="authorization_missing",
            auth_status=order.auth_status,
        )
    order.save(update_fields=["status"])
    return order


@transaction.atomic
def order_schedule(
    *, order: ProcedureOrder, planned_date: date, by: Actor, today: date | None = None
) -> ProcedureOrder:
    """authorized -> scheduled for a date (the booking runs this; only a booked visit holds a
    scheduled order). The check runs again; any block not overridden by a clinician stops it
    (409 with the findings). `today`: the date at the visit's location, when the caller
    knows it (the server's zone may already be on another date)."""
    if planned_date < (today or timezone.localdate()):
        raise ValidationFailed({"planned_date": ["A procedure cannot be scheduled in the past."]})
    order = _locked(order)
    _move(order, OrderStatus.SCHEDULED)
    order.planned_date = planned_date
    order_findings(order, today=today)
    blocks = unresolved_blocks(order)
    if blocks:
        raise Conflict(
            "The safety check has blocking findings; a clinician must override them first.",
            code="safety_block",
            findings=blocks,
        )
    order.save()
    return order


@transaction.atomic
def order_unschedule(*, order: ProcedureOrder, by: Actor) -> ProcedureOrder:
    """scheduled -> authorized: the visit that held the order was cancelled, missed or moved
    (the order is booked again from here)."""
    order = _locked(order)
    _move(order, OrderStatus.AUTHORIZED)
    order.save(update_fields=["status"])
    return order


@transaction.atomic
def order_cancel(*, order: ProcedureOrder, reason: str, by: Actor) -> ProcedureOrder:
    if not reason.strip():
        raise ValidationFailed({"reason": ["Say why the order is cancelled."]})
    order = _locked(order)
    if order.status == OrderStatus.SCHEDULED:  # a visit holds it: orders and visits agree
        raise Conflict(
            "A booked visit holds this order: cancel the visit first (the order returns to "
            "authorized), then the order.",
            code="order_has_visit",
        )
    _move(order, OrderStatus.CANCELLED)
    order.cancel_reason, order.cancelled_by = reason.strip()[:300], by.user
    order.save(update_fields=["status", "cancel_reason", "cancelled_by"])
    return order


@transaction.atomic
def order_override(
    *, order: ProcedureOrder, finding_code: str, reason: str, by: Actor
) -> SafetyOverride:
    """A clinician goes ahead despite a blocking finding, with a reason on record."""
    _require_clinician(by, "override a safety finding")
    if by.user is None:  # the override names its clinician; the table requires one
        raise Forbidden("Only a signed-in clinician may override a safety finding.")
    clinician = by.user
    order = _locked(order)
    _require_open(order)
    blocks = {f["code"] for f in order.findings if f["severity"] == BLOCK}
    if finding_code not in blocks:
        raise ValidationFailed(
            {"finding_code": ["This order has no blocking finding with that code."]}
        )
    if not reason.strip():
        raise ValidationFailed({"reason": ["Give the reason for going ahead."]})
    try:
        with transaction.atomic():
            return SafetyOverride.objects.create(
                order=order,
                finding_code=finding_code,
                reason=reason.strip(),
                overridden_by=clinician,
            )
    except IntegrityError:
        raise Conflict("This finding was already overridden.", code="already_overridden") from None


def _record_errors(procedure_type, fields) -> dict:
    errors = _level_errors(procedure_type, fields.get("side", ""), list(fields.get("levels") or []))
    steroid, dose = fields.get("steroid"), fields.get("steroid_dose_mg")
    if steroid and dose is None:
        errors["steroid_dose_mg"] = [STEROID_NEEDS_DOSE]
    if steroid and procedure_type.nonparticulate_steroid_only and steroid.particulate:
        errors["steroid"] = [
            f"{procedure_type.name} takes a non-particulate steroid only (dexamethasone)."
        ]
    if (
        steroid
        and steroid.max_dose_per_session_mg
        and dose
        and dose > steroid.max_dose_per_session_mg
    ):
        errors["steroid_dose_mg"] = [
            f"Above the per-session maximum of {steroid.max_dose_per_session_mg.normalize()} mg "
            f"for {steroid.name} (LCD-ESI)."
        ]
    if fields.get("performed_at") and fields["performed_at"] > timezone.now():
        errors["performed_at"] = ["A procedure cannot be recorded before it happens."]
    refill_due = fields.get("next_refill_due")
    if refill_due and procedure_type.family != "intrathecal":
        errors["next_refill_due"] = ["Only an intrathecal pump has a refill date."]
    elif refill_due and fields.get("performed_at") and refill_due <= fields["performed_at"].date():
        errors["next_refill_due"] = ["The next refill is due after this procedure."]
    return errors


def _session_steroid_errors(patient: Patient, procedure_type: ProcedureType, fields) -> dict:
    """The steroid of the whole session (one region, one local day) against its maximum; the
    patient's row is locked so that two same-day records are checked one after the other."""
    if not fields.get("steroid"):
        return {}
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    excess = steroid_session_excess(
        patient=patient,
        procedure_type=procedure_type,
        performed_at=fields.get("performed_at"),
        location=fields.get("location"),
        steroid=fields["steroid"],
        dose=fields.get("steroid_dose_mg"),
    )
    return {"steroid_dose_mg": [excess]} if excess else {}


@transaction.atomic
def record_create(
    *,
    by: Actor,
    order: ProcedureOrder | None = None,
    patient: Patient | None = None,
    procedure_type: ProcedureType | None = None,
    **fields: Any,
) -> ProcedureRecord:
    """Record a performed procedure. With an order, the order becomes performed (it must be
    scheduled). The procedure type's follow-up plan is written to the outbox with it."""
    _require_clinician(by, "record a procedure")
    if order is not None:
        order = _locked(order)
        _move(order, OrderStatus.PERFORMED)
        patient, procedure_type = order.patient, order.procedure_type
    if patient is None or procedure_type is None:
        raise ValidationFailed(
            {"order": ["Give the order, or the patient and the procedure type."]}
        )
    fields, pump_errors = with_refill_dates(procedure_type, fields)  # pumps.py
    record = ProcedureRecord(
        order=order,
        patient=patient,
        procedure_type=procedure_type,
        recorded_by=by.user,
        **fields,
    )
    errors = _session_steroid_errors(patient, procedure_type, fields)
    full_clean_or_fail(record, errors=errors | _record_errors(procedure_type, fields) | pump_errors)
    record.save()
    if order is not None:
        order.save(update_fields=["status"])
    procedure_recorded(record)
    return record


@transaction.atomic
def outcome_record(
    *,
    record: ProcedureRecord,
    nrs: int,
    measured_at: datetime | None = None,
    by: Actor,
    pgic: int | None = None,
    source: str = "clinic",
) -> ProcedureOutcome:
    """A follow-up pain score; its percent relief is computed from the pre-procedure NRS
    (instruments.md) and the record keeps the best relief seen."""
    record = ProcedureRecord.objects.select_for_update().get(pk=record.pk)
    measured_at = measured_at or timezone.now()
    outcome = ProcedureOutcome(
        record=record,
        nrs=nrs,
        measured_at=measured_at,
        pgic=pgic,
        source=source,
        recorded_by=by.user,
    )
    errors = {}
    if measured_at < record.performed_at:
        errors["measured_at"] = ["A follow-up cannot be before the procedure."]
    if measured_at > timezone.now() + timedelta(minutes=5):
        errors["measured_at"] = ["A follow-up cannot be recorded before it happens."]
    full_clean_or_fail(outcome, exclude=["record"], errors=errors)
    outcome.percent_relief = percent_relief(record.pre_nrs, outcome.nrs)
    outcome.save()
    if outcome.percent_relief is not None and (
        record.best_relief_percent is None or outcome.percent_relief > record.best_relief_percent
    ):
        record.best_relief_percent = outcome.percent_relief
        record.save(update_fields=["best_relief_percent"])
    return outcome
