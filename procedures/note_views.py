"""Pages for a procedure's consent (on its order) and its note (on its record).

Clinicians write; managers read (the pages, the printed note and its PDF). The services say
no with the usual errors: ValidationFailed -> the page again with field errors (400),
Conflict -> the page again with the message (409), Forbidden -> 403.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.access import role_required, signed_in_user
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES, Role

from . import consent as consents
from . import notes, selectors
from .models import ProcedureRecord
from .note_forms import AddendumForm, ConsentForm, NoteForm

clinical_required = role_required(*CLINICAL_ROLES)


def _writes(request: HttpRequest) -> bool:
    return signed_in_user(request).has_role(Role.CLINICIAN)


# --- Consent ----------------------------------------------------------------------------------


def _consent_page(request, order, form, *, status=200, conflict=None) -> HttpResponse:
    context = {
        "order": order,
        "patient": order.patient,
        "form": form if _writes(request) else None,
        "consents": consents.consents_for(order),
        "conflict": conflict,
    }
    return render(request, "procedures/note_consent.html", context, status=status)


@clinical_required
@require_http_methods(["GET", "POST"])
def consent_page(request, order_id):
    order = selectors.order_for(request.user, order_id)
    zone = settings.TIME_ZONE  # an order has no location: the clinic's default zone
    if request.method == "GET":
        return _consent_page(request, order, ConsentForm(order=order, zone_name=zone))
    form = ConsentForm(request.POST, order=order, zone_name=zone)
    if not form.is_valid():
        return _consent_page(request, order, form, status=400)
    try:
        consents.consent_record(order=order, by=Actor.desk(request.user), **form.cleaned_data)
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from None
    except Conflict as exc:
        return _consent_page(request, order, form, status=409, conflict=exc.detail)
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return _consent_page(request, order, form, status=400)
    messages.success(request, "Consent recorded.")
    return redirect("procedures:order-consent", order_id=order.pk)


# --- The note ---------------------------------------------------------------------------------


def _note_page(
    request, record: ProcedureRecord, *, form=None, addendum_form=None, status=200, conflict=None
):
    note = notes.note_of(record)
    writes = _writes(request)
    context = {
        "record": record,
        "patient": record.patient,
        "note": note,
        "zone": record.location,
        "conflict": conflict,
        "writes": writes,
    }
    if note is not None and note.is_signed:
        context |= notes.note_document_context(record, note)
        context["addendum_form"] = (addendum_form or AddendumForm()) if writes else None
        return render(request, "procedures/note_signed.html", context, status=status)
    consent = consents.consent_before(record)
    if form is None and writes:
        initial = (
            {name: getattr(note, name) for name in notes.SECTION_NAMES}
            if note is not None
            else notes.note_prefill(record, consent)
        )
        form = NoteForm(initial=initial)
    context |= {"form": form, "consent": consent}
    return render(request, "procedures/note_edit.html", context, status=status)


def _write(request, record, write: Callable[[], object], *, form, form_key: str, done: str):
    """Run a note service and answer: back to the note with `done`, or the page again with
    the error (400 beside the fields, 409 with the message; 403 when the role may not)."""
    try:
        write()
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from None
    except Conflict as exc:
        return _note_page(request, record, status=409, conflict=exc.detail)
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return _note_page(request, record, status=400, **{form_key: form})
    messages.success(request, done)
    return redirect("procedures:note", record_id=record.pk)


@clinical_required
@require_http_methods(["GET", "POST"])
def note_page(request, record_id):
    record = selectors.record_for(request.user, record_id)
    if request.method == "GET":
        return _note_page(request, record)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _note_page(request, record, form=form, status=400)
    by = Actor.desk(request.user)
    if form.cleaned_data["action"] == "sign":
        reason = form.cleaned_data["consent_override_reason"]
        return _write(
            request,
            record,
            lambda: notes.note_sign(
                record=record, by=by, consent_override_reason=reason, **form.sections()
            ),
            form=form,
            form_key="form",
            done="Note signed and locked.",
        )
    return _write(
        request,
        record,
        lambda: notes.note_save_draft(record=record, by=by, **form.sections()),
        form=form,
        form_key="form",
        done="Draft saved.",
    )


@clinical_required
@require_POST
def addendum_add(request, record_id):
    record = selectors.record_for(request.user, record_id)
    note = notes.note_of(record)
    if note is None:
        return _note_page(request, record, status=409, conflict="This procedure has no note yet.")
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _note_page(request, record, addendum_form=form, status=400)
    return _write(
        request,
        record,
        lambda: notes.note_add_addendum(
            note=note, by=Actor.desk(request.user), **form.cleaned_data
        ),
        form=form,
        form_key="addendum_form",
        done="Addendum added to the signed note.",
    )


@clinical_required
@require_http_methods(["GET"])
def note_pdf(request, record_id):
    record = selectors.record_for(request.user, record_id)
    note = notes.note_or_prefilled(record)  # a draft prints marked "Draft: not signed"
    response = HttpResponse(notes.note_pdf(record, note), content_type="application/pdf")
    # No name or procedure in the file name: it travels in downloads folders and mail.
    response["Content-Disposition"] = 'inline; filename="procedure-note.pdf"'
    response["Cache-Control"] = "no-store"
    return response
