from django.db.models import QuerySet
from django.http import Http404

from clinic.core.ids import NOT_AN_ID
from clinic.users.roles import CLINICAL_ROLES
from patients.selectors import patients_visible_to

from .models import OrderStatus, ProcedureOrder, ProcedureRecord, ProcedureType


def procedure_types_active() -> QuerySet[ProcedureType]:
    """The catalog as staff list it: the active entries, each with who performs it and its
    CPT codes."""
    return ProcedureType.objects.filter(is_active=True).prefetch_related(
        "providers", "procedure_codes"
    )


def orders_visible_to(user) -> QuerySet[ProcedureOrder]:
    """Staff see every order (with what the pages show); a patient only their own scheduled
    ones, and nothing of the staff's work on them."""
    orders = ProcedureOrder.objects.select_related("procedure_type")
    if user.is_clinic_staff:
        return orders.select_related(
            "patient__payer", "ordered_by", "cancelled_by", "auth_requested_by"
        ).prefetch_related("overrides__overridden_by")
    return orders.filter(patient__in=patients_visible_to(user), status=OrderStatus.SCHEDULED)


def order_for(user, order_id) -> ProcedureOrder:
    try:
        return orders_visible_to(user).get(pk=order_id)
    except (ProcedureOrder.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def records_visible_to(user) -> QuerySet[ProcedureRecord]:
    """With what a row of the list shows beside ids: the kind of procedure, who recorded it
    and the follow-ups. Joining the other links too made PostgreSQL plan a seven-table join
    for every page (planning took longer than the page)."""
    if not user.has_role(*CLINICAL_ROLES):
        return ProcedureRecord.objects.none()
    return ProcedureRecord.objects.select_related("procedure_type", "recorded_by").prefetch_related(
        "outcomes"
    )


def record_for(user, record_id) -> ProcedureRecord:
    """One record with everything its page shows."""
    try:
        return (
            records_visible_to(user)
            .select_related("patient", "performer", "location", "steroid", "order")
            .get(pk=record_id)
        )
    except (ProcedureRecord.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None
