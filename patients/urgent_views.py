"""The clinician's acknowledgement of a patient's danger signs (the urgent banner's form)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.access import role_required
from clinic.users.actor import Actor
from clinic.users.roles import Role

from . import selectors, urgent

# Where the form may send the clinician back to (never a URL from the request).
BACK = {"chart": "patients:chart", "history": "patient-history"}


@require_POST
@role_required(Role.CLINICIAN)
def urgent_acknowledge(request, patient_id):
    patient = selectors.patient_for(request.user, patient_id)
    try:
        done = urgent.urgent_acknowledge(
            patient=patient, by=Actor.desk(request.user), note=request.POST.get("note", "")
        )
    except ValidationFailed as exc:
        messages.error(request, "Not acknowledged: " + " ".join(exc.fields.get("note", [])))
    except Conflict as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, f"Acknowledged {len(done)} danger sign(s); the note is kept.")
    back = BACK.get(request.POST.get("back", ""), BACK["chart"])
    return redirect(back, patient_id=patient.pk)
