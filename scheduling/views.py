"""The status moves of the desk's calendar (its page is in board_views.py, booking in
book_views.py): the visit dialog posts a move or an undo with `fetch` and reads JSON back.

    POST /desk/appointments/<id>/move/  to=checked_in|in_room|completed|no_show|cancelled
                                        [reason=] (a cancellation needs one)
    POST /desk/appointments/<id>/undo/  (a no-show or a cancellation, the same local day)

200 `{"status", "status_label", "detail"}` when done; ValidationFailed -> 400 and Conflict ->
409 as `{"code", "detail", "fields"}`, the detail said so that the dialog can show it as is
(a check-in of next week's visit: "This visit is on Fri Dec 11, 9:00 AM MST: it can be
checked in only on its day."). 401 signed out, 403 for a patient, 404 for no such visit.
"""

from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.access import signed_in_user
from clinic.users.actor import Actor

from . import services
from .board_views import _json_error, staff_json
from .forms import MoveForm
from .models import Appointment, AppointmentStatus
from .selectors import appointment_for

# The moves the calendar's dialog offers (calendar_selectors.MOVE_LABELS names them).
MOVE_TARGETS = {
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_ROOM,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED,
}


def _refusal(exc: ValidationFailed | Conflict) -> JsonResponse:
    """A refused move in words the dialog shows as they are (the field's message, if any)."""
    texts = [str(text) for texts in exc.fields.values() for text in _as_list(texts)]
    detail = " ".join(texts) if isinstance(exc, ValidationFailed) and texts else exc.detail
    return _json_error(exc.status_code, exc.code, detail, exc.fields)


def _as_list(texts) -> list:
    return list(texts) if isinstance(texts, list | tuple) else [texts]


def _done(appointment: Appointment, words: str) -> JsonResponse:
    return JsonResponse(
        {
            "appointment": str(appointment.pk),
            "status": appointment.status,
            "status_label": appointment.get_status_display(),
            "detail": f"{appointment.patient.full_name}: {words}.",
        }
    )


@staff_json
@require_POST
def appointment_move(request: HttpRequest, appointment_id) -> JsonResponse:
    """Check in, in room, complete, no-show or cancel (with a reason) from the visit dialog."""
    try:
        appointment = appointment_for(request.user, appointment_id)
    except Http404:
        return _json_error(404, "not_found", "No such visit.")
    form = MoveForm(request.POST)
    if not form.is_valid() or form.cleaned_data["to"] not in MOVE_TARGETS:
        words = "Choose one of the visit's actions."
        return _json_error(400, "invalid", words, {"to": [words]})
    try:
        moved = services.appointment_move(
            appointment=appointment,
            to=form.cleaned_data["to"],
            by=Actor.desk(signed_in_user(request)),
            reason=form.cleaned_data["reason"],
        )
    except (ValidationFailed, Conflict) as exc:
        return _refusal(exc)
    return _done(moved, moved.get_status_display().lower())


@staff_json
@require_POST
def appointment_undo(request: HttpRequest, appointment_id) -> JsonResponse:
    """Undo a no-show or a cancellation (the same day, the slot still free)."""
    try:
        appointment = appointment_for(request.user, appointment_id)
    except Http404:
        return _json_error(404, "not_found", "No such visit.")
    try:
        restored = services.appointment_undo(
            appointment=appointment, by=Actor.desk(signed_in_user(request))
        )
    except Conflict as exc:
        return _refusal(exc)
    return _done(restored, f"{restored.get_status_display().lower()} again")
