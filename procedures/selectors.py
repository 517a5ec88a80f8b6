from django.db.models import QuerySet
from django.http import Http404

from clinic.users.roles import Role
from patients.selectors import patients_visible_to

from .models import OrderStatus, ProcedureOrder, ProcedureRecord

CLINICAL = (Role.CLINICIAN, Role.MANAGER)


def orders_visible_to(user) -> QuerySet[ProcedureOrder]:
    """Staff see every order; a patient only their own scheduled ones."""
    orders = ProcedureOrder.objects.select_related("procedure_type").prefetch_related(
        "overrides__overridden_by"
    )
    if user.is_clinic_staff:
        return orders.select_related("ordered_by")
    return orders.filter(patient__in=patients_visible_to(user), status=OrderStatus.SCHEDULED)


def order_for(user, order_id) -> ProcedureOrder:
    try:
        return orders_visible_to(user).get(pk=order_id)
    except (ProcedureOrder.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def records_visible_to(user) -> QuerySet[ProcedureRecord]:
    if not user.has_role(*CLINICAL):
        return ProcedureRecord.objects.none()
    return ProcedureRecord.objects.select_related("procedure_type", "recorded_by").prefetch_related(
        "outcomes"
    )


def record_for(user, record_id) -> ProcedureRecord:
    try:
        return records_visible_to(user).get(pk=record_id)
    except (ProcedureRecord.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
