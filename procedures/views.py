"""Staff pages for procedure orders and performed procedures.

Views parse input (forms.py), call services (writes) and selectors (reads), and turn domain
errors into pages: ValidationFailed -> 400 with field errors, Conflict -> 409 with a message
on the re-rendered page, Forbidden -> 403. What each role sees follows serializers.py: the
front desk gets what it needs to schedule (never findings, indication or notes); clinicians
and managers get everything. The reads selectors.py does not offer are the private helpers
marked below.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.ids import parse_uuid
from clinic.users.access import role_required, staff_required
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES
from patients.icd10 import NOT_IN_LIST, clinic_codes, in_clinic_list
from patients.selectors import (
    clinical_patient_for,
    patient_for,
    patients_matching,
    patients_visible_to,
)
from sites.models import Provider

from . import selectors, services
from .forms import (
    AuthorizationForm,
    CancelForm,
    OrderFilterForm,
    OrderForm,
    OutcomeForm,
    OverrideForm,
    RecordForm,
)
from .models import AuthStatus, OrderStatus, ProcedureOrder
from .safety import BLOCK, DISCLAIMER, INFO, WARN
from .visits import booked_visit

PAGE_SIZE = 25
clinician_required = role_required(*CLINICAL_ROLES)
SEVERITIES = (
    (BLOCK, "Blocking", "danger"),
    (WARN, "Warnings", "warn"),
    (INFO, "For information", "info"),
)
CLOSED = (OrderStatus.PERFORMED, OrderStatus.CANCELLED)


# --- Helpers ---------------------------------------------------------------------------


def _provider_of(user):
    return Provider.objects.filter(user=user, is_active=True).values_list("pk", flat=True).first()


# --- Orders list ------------------------------------------------------------------------------


@staff_required
def order_list(request):
    """Orders, newest first, filtered by status and optionally by patient."""
    form = OrderFilterForm(request.GET)
    orders, patient, status = selectors.orders_visible_to(request.user), None, 200
    if form.is_valid():
        if form.cleaned_data["status"]:
            orders = orders.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["patient"]:
            patient = patient_for(request.user, form.cleaned_data["patient"])
            orders = orders.filter(patient=patient)
    else:
        orders, status = orders.none(), 400
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"order": order, "blocked": bool(services.unresolved_blocks(order))}
        for order in page.object_list
    ]
    query = {"status": form.cleaned_data.get("status") if form.is_valid() else ""}
    if patient is not None:
        query["patient"] = patient.pk
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "patient": patient,
        "query": urlencode({k: v for k, v in query.items() if v}),
        "clinical": request.user.has_role(*CLINICAL_ROLES),
    }
    return render(request, "procedures/order_list.html", context, status=status)


# --- New order --------------------------------------------------------------------------------


CHOOSER_LIMIT = 20


def _patient_chooser(request):
    """The new-order page without a patient: find one (terms by POST, never in the URL)."""
    query = request.POST.get("q", "").strip()[:100] if request.method == "POST" else ""
    found = (
        list(patients_matching(patients_visible_to(request.user), query=query)[:CHOOSER_LIMIT])
        if query
        else []
    )
    context = {"query": query, "found": found, "limit": CHOOSER_LIMIT}
    return render(request, "procedures/order_patient_chooser.html", context)


def _order_initial(request, patient) -> dict:
    """A prefilled order (the history's pathway suggests the next step): the procedure (its
    catalog code or id), side and levels from the query string, and the indication of an
    earlier order of the same patient named by its id, so no diagnosis travels in the URL."""
    query = request.GET
    initial: dict = {name: query[name] for name in ("procedure_type", "side") if query.get(name)}
    code = query.get("procedure")
    kind = selectors.procedure_types_active().filter(code=code).first() if code else None
    if kind is not None:
        initial["procedure_type"] = str(kind.pk)
    if query.getlist("levels"):
        initial["levels"] = query.getlist("levels")
    earlier_id = parse_uuid(query.get("indication_from"))
    earlier = (
        selectors.orders_visible_to(request.user).filter(patient=patient, pk=earlier_id).first()
        if earlier_id
        else None
    )
    if earlier is not None:
        initial |= {
            "indication_code": earlier.indication_code,
            "indication_text": earlier.indication_text,
        }
    return initial


def _order_form_page(request, patient, form, status):
    context = {
        "form": form,
        "patient": patient,
        "codes": clinic_codes(),
        "outside_list": form.code_outside_list(),
        "not_in_list": NOT_IN_LIST,
        "rules": form.procedure_rules(),
    }
    return render(request, "procedures/order_form.html", context, status=status)


@clinician_required
@require_http_methods(["GET", "POST"])
def order_create(request):
    patient_id = parse_uuid(request.GET.get("patient"))
    if patient_id is None:
        return _patient_chooser(request)
    patient = clinical_patient_for(request.user, patient_id)
    if request.method == "GET":
        return _order_form_page(
            request, patient, OrderForm(initial=_order_initial(request, patient)), 200
        )
    form = OrderForm(request.POST)
    if form.is_valid():
        try:
            order = services.order_create(
                patient=patient, by=Actor.desk(request.user), **form.cleaned_data
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.detail) from None
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            blocks = len(services.unresolved_blocks(order))
            messages.success(
                request,
                f"{order.procedure_type.name} ordered for {patient.full_name}."
                + (f" The safety check found {blocks} blocking finding(s)." if blocks else ""),
            )
            return redirect("procedures:order", order_id=order.pk)
    return _order_form_page(request, patient, form, 400)


# --- The order page and its actions ------------------------------------------------------------


def _findings_view(order: ProcedureOrder, override_forms: dict) -> list[dict]:
    """The last check's findings grouped by severity; each open block gets an override form."""
    overrides = {o.finding_code: o for o in order.overrides.all()}
    closed = order.status in CLOSED
    findings = []
    for n, finding in enumerate(order.findings):
        view = {**finding, "override": overrides.get(finding["code"]), "form": None}
        if view["severity"] == BLOCK and view["override"] is None and not closed:
            view["form"] = override_forms.get(finding["code"]) or OverrideForm(
                initial={"finding_code": finding["code"]}, auto_id=f"override{n}_%s"
            )
        findings.append(view)
    groups = []
    for severity, label, css in SEVERITIES:
        found = [f for f in findings if f["severity"] == severity]
        if found:
            groups.append({"severity": severity, "label": label, "css": css, "findings": found})
    return groups


def next_move(order: ProcedureOrder, *, clinical: bool) -> str:
    """The order's next legal move, which its page offers as the primary button: request
    prior authorization while it is pending, denied or expired; record the payer's answer
    once requested; authorize once approved (or not needed); book once authorized; record
    the procedure once booked (for clinicians)."""
    if order.status == OrderStatus.ORDERED:
        approved = order.auth_status == AuthStatus.APPROVED and (
            order.auth_expires is None or order.auth_expires >= timezone.localdate()
        )
        if approved or order.auth_status == AuthStatus.NOT_NEEDED:
            return "authorize"
        return "answer" if order.auth_status == AuthStatus.REQUESTED else "request"
    if order.status == OrderStatus.AUTHORIZED:
        return "book"
    if order.status == OrderStatus.SCHEDULED and clinical:
        return "record"
    return ""


def _auth_form(order, bound, *, closed: bool) -> AuthorizationForm | None:
    """The payer's answer form, while the order is open and an answer may be recorded (a
    failed submission is shown again with its errors)."""
    form = bound or AuthorizationForm(order=order)
    return None if closed or not (form.is_bound or form.offers_answers) else form


def _order_page(request, order, *, status=200, bound=None, conflict=None, errors=()):
    """The order page; `bound` holds a failed action's form so its errors show in place."""
    bound = bound or {}
    clinical = request.user.has_role(*CLINICAL_ROLES)
    closed = order.status in CLOSED
    context = {
        "order": order,
        "patient": order.patient,
        "clinical": clinical,
        "blocked": bool(services.unresolved_blocks(order)),
        "minutes": order.procedure_type.minutes_for(len(order.levels)),
        "conflict": conflict,
        "errors": list(errors),
        "auth_form": _auth_form(order, bound.get("auth"), closed=closed),
        "next_move": next_move(order, clinical=clinical),
        "payer_name": order.patient.payer.name if order.patient.payer else "the payer",
        "can_cancel": OrderStatus.CANCELLED in services.TRANSITIONS[order.status],
        "indication_listed": in_clinic_list(order.indication_code),
        "not_in_list": NOT_IN_LIST,
    }
    if clinical:
        context |= {
            "groups": _findings_view(order, bound.get("overrides", {})),
            "disclaimer": DISCLAIMER,
            "can_recheck": not closed,
            "record": getattr(order, "record", None)
            if order.status == OrderStatus.PERFORMED
            else None,
        }
    return render(request, "procedures/order_detail.html", context, status=status)


@staff_required
def order_detail(request, order_id):
    return _order_page(request, selectors.order_for(request.user, order_id))


def _conflict_view(request, exc: Conflict) -> dict:
    view = {"detail": exc.detail, "code": exc.code}
    if request.user.has_role(*CLINICAL_ROLES):
        view["findings"] = exc.extra.get("findings", [])
    return view


def _act(request, order, action, *, success, form=None, form_key=None):
    """Run one service for the order page and answer: redirect on success, else the page
    again with the error (400 field errors, 409 conflict, 403 forbidden)."""
    try:
        action()
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from None
    except Conflict as exc:
        return _order_page(request, order, status=409, conflict=_conflict_view(request, exc))
    except ValidationFailed as exc:
        if form is None:
            return _order_page(request, order, status=400, errors=[exc.detail])
        form.add_service_errors(exc)
        return _order_page(request, order, status=400, bound={form_key: form})
    messages.success(request, success)
    return redirect("procedures:order", order_id=order.pk)


@staff_required
@require_POST
def order_authorization(request, order_id):
    order = selectors.order_for(request.user, order_id)
    form = AuthorizationForm(request.POST, order=order)
    if not form.is_valid():
        return _order_page(request, order, status=400, bound={"auth": form})
    return _act(
        request,
        order,
        lambda: services.order_set_authorization(
            order=order, by=Actor.desk(request.user), **form.cleaned_data
        ),
        success="Prior authorization saved.",
        form=form,
        form_key="auth",
    )


@staff_required
@require_POST
def order_request_authorization(request, order_id):
    order = selectors.order_for(request.user, order_id)
    return _act(
        request,
        order,
        lambda: services.order_request_authorization(order=order, by=Actor.desk(request.user)),
        success="Prior authorization requested: record the payer's answer when it comes.",
    )


@staff_required
@require_POST
def order_authorize(request, order_id):
    order = selectors.order_for(request.user, order_id)
    return _act(
        request,
        order,
        lambda: services.order_authorize(order=order, by=Actor.desk(request.user)),
        success="Order authorized: it can be booked now.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def order_cancel(request, order_id):
    """A confirmation page: cancelling asks for the reason, which is stored with who did it
    (and kept in the order's history)."""
    order = selectors.order_for(request.user, order_id)
    if request.method == "GET":
        return _cancel_page(request, order, CancelForm())
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _cancel_page(request, order, form, status=400)
    try:
        services.order_cancel(order=order, by=Actor.desk(request.user), **form.cleaned_data)
    except Conflict as exc:
        return _cancel_page(request, order, form, status=409, conflict=exc.detail)
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return _cancel_page(request, order, form, status=400)
    messages.success(request, "Order cancelled; the reason is on record.")
    return redirect("procedures:order", order_id=order.pk)


def _cancel_page(request, order, form, *, status=200, conflict=""):
    context = {
        "order": order,
        "patient": order.patient,
        "form": form,
        "conflict": conflict,
        "can_cancel": OrderStatus.CANCELLED in services.TRANSITIONS[order.status],
    }
    return render(request, "procedures/order_cancel.html", context, status=status)


@clinician_required
@require_POST
def order_override(request, order_id):
    order = selectors.order_for(request.user, order_id)
    code = request.POST.get("finding_code", "")
    position = next((n for n, f in enumerate(order.findings) if f["code"] == code), None)
    form = OverrideForm(request.POST, auto_id=f"override{position}_%s")
    if position is None:
        return _order_page(
            request, order, status=400, errors=["This order has no finding with that code."]
        )
    bound = {"overrides": {code: form}}
    if not form.is_valid():
        return _order_page(request, order, status=400, bound=bound)
    try:
        services.order_override(order=order, by=Actor.desk(request.user), **form.cleaned_data)
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from None
    except Conflict as exc:
        return _order_page(request, order, status=409, conflict=_conflict_view(request, exc))
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return _order_page(request, order, status=400, bound=bound)
    messages.success(request, "Override recorded with your reason.")
    return redirect("procedures:order", order_id=order.pk)


@clinician_required
@require_POST
def order_recheck(request, order_id):
    order = selectors.order_for(request.user, order_id)
    if order.status in CLOSED:
        return _order_page(
            request,
            order,
            status=409,
            conflict={"detail": f"The order is {order.status}; its check is kept as it was."},
        )
    return _act(
        request,
        order,
        lambda: services.order_recheck(order=order, by=Actor.desk(request.user)),
        success="The safety check ran again.",
    )


# --- Recording the procedure ------------------------------------------------------------------


@clinician_required
@require_http_methods(["GET", "POST"])
def record_create(request, order_id):
    order = selectors.order_for(request.user, order_id)
    if request.method == "GET" and order.status != OrderStatus.SCHEDULED:
        messages.info(
            request,
            f"Only a scheduled order can be recorded; this one is {order.get_status_display().lower()}.",
        )
        return redirect("procedures:order", order_id=order.pk)
    visit = booked_visit(order, parse_uuid(request.GET.get("visit")))
    form = RecordForm(
        request.POST if request.method == "POST" else None,
        order=order,
        visit=visit,
        provider_id=_provider_of(request.user),
    )
    conflict, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_create(
                order=order, by=Actor.desk(request.user), **form.cleaned_data
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.detail) from None
        except Conflict as exc:
            conflict, status = exc.detail, 409
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            if form.ambiguous:
                messages.info(
                    request,
                    "That local time occurs twice on this date (daylight saving time ended); "
                    "the earlier one was recorded.",
                )
            messages.success(request, "Procedure recorded; the order is performed.")
            return redirect("procedures:record", record_id=record.pk)
    if form.is_bound and status == 200:
        status = 400
    context = {
        "form": form,
        "order": order,
        "patient": order.patient,
        "conflict": conflict,
        "visit": visit,
    }
    return render(request, "procedures/record_form.html", context, status=status)


def _record_page(request, record, *, form=None, status=200):
    context = {
        "record": record,
        "patient": record.patient,
        "outcomes": list(record.outcomes.all()),
        "form": form or OutcomeForm(zone_name=record.location.time_zone),
        "zone": record.location.time_zone,
    }
    return render(request, "procedures/record_detail.html", context, status=status)


@clinician_required
def record_detail(request, record_id):
    return _record_page(request, selectors.record_for(request.user, record_id))


@clinician_required
@require_POST
def outcome_add(request, record_id):
    record = selectors.record_for(request.user, record_id)
    form = OutcomeForm(request.POST, zone_name=record.location.time_zone)
    if form.is_valid():
        try:
            outcome = services.outcome_record(
                record=record, by=Actor.desk(request.user), **form.cleaned_data
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            relief = (
                f", {outcome.percent_relief}% relief" if outcome.percent_relief is not None else ""
            )
            messages.success(request, f"Follow-up recorded: NRS {outcome.nrs}{relief}.")
            return redirect("procedures:record", record_id=record.pk)
    return _record_page(request, record, form=form, status=400)
