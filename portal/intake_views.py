"""The portal's step-by-step intake, before the first visit.

Each step's answers are checked and kept in the patient's one draft by
patients.services.intake_draft_save; the review page sends the draft for staff review
through intake_draft_submit (intake_submit underneath). Nothing here takes an id from the
URL: every page reads and writes only the signed-in patient's own draft.
"""

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.access import role_required
from clinic.users.actor import Actor
from clinic.users.roles import Role
from patients import selectors, services
from patients.models import IntakeStatus, Patient

from .intake_forms import STEP_FORMS, RowsStep

STEPS = services.INTAKE_DRAFT_STEPS
STEP_TITLES = {
    "about": _("About you"),
    "pain": _("Your pain"),
    "medications": _("Your medicines"),
    "allergies": _("Allergies"),
    "conditions": _("Health conditions and implanted devices"),
    "questionnaires": _("How you are doing"),
    "safety": _("Safety questions"),
    "review": _("Check and send"),
}


# --- Reads (the signed-in patient's own rows only) ----------------------------------------


# --- Helpers ------------------------------------------------------------------------------


def patient_page(view):
    """Patients only (staff get a 403, anonymous users the login page); a login not linked
    to a record yet is told so. The view receives the signed-in patient's record."""

    @role_required(Role.PATIENT)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        patient = getattr(request.user, "patient", None)
        if patient is None:
            return render(request, "portal/intake/no_record.html")
        return view(request, patient, *args, **kwargs)

    return wrapper


def _step_url(step: str) -> str:
    return reverse(f"portal:intake-{step}")


def _progress(current: str, draft: dict) -> list[dict]:
    return [
        {
            "key": key,
            "number": number,
            "title": STEP_TITLES[key],
            "url": _step_url(key),
            "current": key == current,
            "saved": key in draft,
        }
        for number, key in enumerate(STEPS, start=1)
    ]


def _step_page(request, step: str, form, draft: dict, *, status=200, submit_failed=False):
    index = STEPS.index(step)
    context = {
        "step": step,
        "title": STEP_TITLES[step],
        "number": index + 1,
        "total": len(STEPS),
        "progress": _progress(step, draft),
        "form": form,
        "error_links": form.error_links() if status == 400 else [],
        "action": _step_url(step),
        "back_url": _step_url(STEPS[index - 1]) if index else reverse("portal:intake"),
        "submit_failed": submit_failed,
    }
    return render(request, "portal/intake/step.html", context, status=status)


def _action(post) -> tuple[str, int | None]:
    """The button pressed: continue, save (and continue later), add (a row), remove-<n>."""
    action = post.get("action", "continue")
    if action.startswith("remove-"):
        index = action.removeprefix("remove-")
        return ("remove", int(index)) if index.isdecimal() else ("continue", None)
    return (action if action in ("continue", "save", "add") else "continue"), None


# --- Pages --------------------------------------------------------------------------------


@patient_page
@require_http_methods(["GET"])
def intake_start(request, patient: Patient):
    """Where the intake stands: resume the draft, say it is waiting, or offer to start."""
    intake = selectors.intake_open_for(patient)
    if intake is not None and intake.status == IntakeStatus.DRAFT:
        return redirect(_step_url(intake.draft_step or STEPS[0]))
    context = {
        "waiting": intake is not None,
        "steps": [STEP_TITLES[key] for key in STEPS],
        "first_step_url": _step_url(STEPS[0]),
    }
    return render(request, "portal/intake/start.html", context)


@patient_page
@require_http_methods(["GET", "POST"])
def intake_step(request, patient: Patient, step: str):
    intake = selectors.intake_open_for(patient)
    if intake is not None and intake.status != IntakeStatus.DRAFT:
        return redirect("portal:intake")  # waiting for review: no new draft meanwhile
    draft = intake.draft if intake is not None else {}
    form_class = STEP_FORMS[step]
    if request.method == "GET":
        rows = issubclass(form_class, RowsStep)
        extra = {"add_row": request.GET.get("add") == "1"} if rows else {}
        return _step_page(request, step, form_class(patient=patient, draft=draft, **extra), draft)

    action, remove = _action(request.POST)
    extra = {"remove": remove} if issubclass(form_class, RowsStep) else {}
    form = form_class(request.POST, patient=patient, draft=draft, **extra)
    if form.is_valid():
        next_step = STEPS[STEPS.index(step) + 1]
        try:
            services.intake_draft_save(
                patient=patient,
                step=step,
                data=form.section_data(),
                by=Actor.portal(request.user),
                resume_at=next_step if action == "continue" else step,
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields)
        except Conflict as exc:
            messages.error(request, exc.detail)
            return redirect("portal:intake")
        else:
            return _after_save(request, step, next_step, action, remove, form)
    return _step_page(request, step, form, draft, status=400)


def _after_save(request, step, next_step, action, remove, form):
    if action == "save":
        messages.success(
            request,
            gettext(
                "Your answers are saved. Come back any time to finish your intake: "
                "you will start where you left off."
            ),
        )
        return redirect("portal:home")
    if action == "add":  # the new row's first field has autofocus (a #fragment would stop it)
        return redirect(f"{_step_url(step)}?add=1")
    if action == "remove":
        messages.info(
            request,
            gettext("%(row)s %(number)d removed.") % {"row": form.noun, "number": remove + 1},
        )
        return redirect(_step_url(step))
    return redirect(_step_url(next_step))


@patient_page
@require_http_methods(["GET", "POST"])
def intake_review(request, patient: Patient):
    intake = selectors.intake_open_for(patient)
    if intake is None or intake.status != IntakeStatus.DRAFT:
        if request.method == "POST" and intake is not None:
            return redirect("portal:intake-done")  # sent already (a second click)
        return redirect("portal:intake")
    draft = intake.draft
    if request.method == "POST":
        try:
            services.intake_draft_submit(patient=patient, by=Actor.portal(request.user))
        except Conflict:  # sent meanwhile, by a second click or another tab
            return redirect("portal:intake-done")
        except ValidationFailed as exc:
            step = services.intake_draft_failing_step(exc.fields)
            if step in STEP_FORMS:
                form = STEP_FORMS[step].from_draft(patient=patient, draft=draft)
                if form.is_valid():
                    form.add_service_errors(exc.fields)
                return _step_page(request, step, form, draft, status=400, submit_failed=True)
            messages.error(request, exc.detail)
        else:
            return redirect("portal:intake-done")
    sections = [
        {
            "key": key,
            "title": STEP_TITLES[key],
            "url": _step_url(key),
            "saved": key in draft,
            "rows": form_class(patient=patient, draft=draft).summary(),
        }
        for key, form_class in STEP_FORMS.items()
    ]
    status = 200 if request.method == "GET" else 400
    context = {
        "title": STEP_TITLES["review"],
        "number": len(STEPS),
        "total": len(STEPS),
        "progress": _progress("review", draft),
        "sections": sections,
        "back_url": _step_url(STEPS[-2]),
        "status": status,
    }
    return render(request, "portal/intake/review.html", context, status=status)


@patient_page
@require_http_methods(["GET"])
def intake_done(request, patient: Patient):
    submission = selectors.intake_latest_sent(patient)
    if submission is None:
        return redirect("portal:intake")
    return render(request, "portal/intake/done.html", {"submission": submission})
