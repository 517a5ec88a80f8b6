"""The front desk's waitlist page: who waits for which kind of visit, adding a patient,
offering a free slot by hand, and the offers made (pending, accepted, expired).

Views parse input and call the waitlist services (writes) and selectors / availability
(reads). Offers by hand go through the same service as the automatic path
(`services.waitlist._make_offer`), so the patient gets the same message. Staff only.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.forms import error_messages
from clinic.core.templatetags.clinic_time import format_local
from clinic.users.access import signed_in_user, staff_required
from clinic.users.actor import Actor
from patients.selectors import patient_for, patient_search
from sites.models import Location, Provider, Room

from . import services
from .availability import free_slots
from .models import AppointmentType, OfferStatus, WaitlistEntry, WaitlistStatus
from .selectors import waitlist_entry_for, waitlist_for_desk, waitlist_offers_for_desk

SEARCH_RESULTS = 10
OFFERS_SHOWN = 25
SLOTS_SHOWN = 24
SLOT_DAYS = 14


class FilterForm(forms.Form):
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True),
        required=False,
        label="Kind of visit",
        empty_label="Any kind",
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(is_active=True), required=False, empty_label="Any"
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True), required=False, empty_label="Any"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AddForm(FilterForm):
    """A patient put on the waitlist: the kind of visit, optionally a provider and a
    location, and the days the patient could come."""

    patient = forms.UUIDField(error_messages={"required": "Choose a patient."})
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True), label="Kind of visit"
    )
    earliest = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    latest = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the filter form above has fields of the same names.
        kwargs.setdefault("auto_id", "add_%s")
        super().__init__(*args, **kwargs)


class OfferForm(forms.Form):
    """A slot as availability offered it (ids and an ISO time with its offset), never typed."""

    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True))
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True), required=False)
    start = forms.CharField(max_length=40)

    def clean_start(self) -> datetime:
        try:
            start = datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            raise forms.ValidationError("Choose one of the free slots.") from None
        if start.tzinfo is None:
            raise forms.ValidationError("Choose one of the free slots.")
        return start


# --- The list ---------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[FilterForm, dict[str, Any]]:
    form = FilterForm(request.GET or None)
    chosen = form.cleaned_data if form.is_valid() else {}
    return form, {key: chosen.get(key) for key in ("appointment_type", "provider", "location")}


def _offers_by_status(request: HttpRequest, chosen: dict[str, Any]) -> dict[str, list]:
    """The latest offers of each state (one query each, so many open offers never hide the
    accepted or expired ones)."""
    offers = waitlist_offers_for_desk(request.user, **chosen)
    return {
        status: list(offers.filter(status=status)[:OFFERS_SHOWN])
        for status in (OfferStatus.OPEN, OfferStatus.ACCEPTED, OfferStatus.EXPIRED)
    }


def _list_context(request: HttpRequest, add_form: AddForm | None = None) -> dict[str, Any]:
    filter_form, chosen = _filters(request)
    # The terms come by POST only (the search form posts): names, dates of birth and phones
    # stay out of URLs and access logs.
    query = (request.POST.get("q") or "").strip()[:100]
    results = list(patient_search(query=query)[:SEARCH_RESULTS]) if query else []
    today = timezone.localdate()
    offers = _offers_by_status(request, chosen)
    return {
        "filter_form": filter_form,
        "entries": list(waitlist_for_desk(request.user, **chosen)),
        "offers_open": offers[OfferStatus.OPEN],
        "offers_accepted": offers[OfferStatus.ACCEPTED],
        "offers_expired": offers[OfferStatus.EXPIRED],
        "query": query,
        "results": results,
        "add_form": add_form
        or AddForm(initial={"earliest": today, "latest": today + timedelta(days=30)}),
        "chosen_patient": str(add_form["patient"].value() or "") if add_form else "",
    }


@staff_required
@require_http_methods(["GET", "POST"])
def waitlist(request: HttpRequest) -> HttpResponse:
    """The waitlist of every location, filtered by kind, provider and location."""
    return render(request, "scheduling/waitlist.html", _list_context(request))


@staff_required
@require_POST
def waitlist_add(request: HttpRequest) -> HttpResponse:
    form = AddForm(request.POST)
    status = 400
    if form.is_valid():
        cleaned = form.cleaned_data
        try:
            patient = patient_for(request.user, cleaned["patient"])
            entry = services.waitlist_add(
                patient=patient,
                appointment_type=cleaned["appointment_type"],
                provider=cleaned["provider"],
                location=cleaned["location"],
                earliest=cleaned["earliest"],
                latest=cleaned["latest"],
                by=Actor.desk(signed_in_user(request)),
            )
        except Http404:
            form.add_error("patient", "Choose a patient from the search results.")
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.detail)
            status = 409
        else:
            messages.success(
                request,
                f"{patient.full_name} is on the waitlist for {entry.appointment_type.name}.",
            )
            return redirect("scheduling:waitlist")
    context = _list_context(request, add_form=form) | {"errors": error_messages(form)}
    return render(request, "scheduling/waitlist.html", context, status=status)


def _add_errors(form: forms.Form, exc: ValidationFailed) -> None:
    for field, texts in exc.fields.items():
        for text in texts if isinstance(texts, list | tuple) else [texts]:
            form.add_error(field if field in form.fields else None, str(text))
    if not exc.fields:
        form.add_error(None, exc.detail)


@staff_required
@require_POST
def waitlist_remove(request: HttpRequest, entry_id) -> HttpResponse:
    entry = waitlist_entry_for(request.user, entry_id)
    try:
        services.waitlist_remove(entry=entry, by=Actor.desk(signed_in_user(request)))
    except Conflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{entry.patient.full_name} is off the waitlist.")
    return redirect("scheduling:waitlist")


# --- One entry: free slots to offer by hand ----------------------------------------------


def _slot_days(entry: WaitlistEntry, today: date) -> tuple[date, date] | None:
    first = max(entry.earliest, today)
    last = min(entry.latest, first + timedelta(days=SLOT_DAYS - 1))
    return (first, last) if first <= last else None


def _entry_context(request: HttpRequest, entry: WaitlistEntry) -> dict[str, Any]:
    days = _slot_days(entry, timezone.localdate())
    slots = []
    if days is not None and entry.status == WaitlistStatus.WAITING:
        slots = free_slots(
            appointment_type=entry.appointment_type,
            start_date=days[0],
            end_date=days[1],
            provider=entry.provider,
            location=entry.location,
            limit=SLOTS_SHOWN,
            for_staff=True,
        )
    return {
        "entry": entry,
        "offers": list(entry.offers.select_related("provider", "location", "room")),
        "slots": slots,
        "days": days,
        "errors": [],
    }


@staff_required
def waitlist_entry(request: HttpRequest, entry_id) -> HttpResponse:
    """One waiting patient: the free slots that suit the entry, each offered with one click."""
    entry = waitlist_entry_for(request.user, entry_id)
    return render(request, "scheduling/waitlist_entry.html", _entry_context(request, entry))


@staff_required
@require_http_methods(["POST"])
def waitlist_offer(request: HttpRequest, entry_id) -> HttpResponse:
    entry = waitlist_entry_for(request.user, entry_id)
    form = OfferForm(request.POST)
    if not form.is_valid():
        return _entry_error(request, entry, error_messages(form), 400)
    cleaned = form.cleaned_data
    try:
        offer = services.offer_slot_by_hand(
            entry=entry,
            provider=cleaned["provider"],
            location=cleaned["location"],
            room=cleaned["room"],
            start=cleaned["start"],
            by=Actor.desk(signed_in_user(request)),
        )
    except ValidationFailed as exc:
        texts = [str(t) for ts in exc.fields.values() for t in ts] or [exc.detail]
        return _entry_error(request, entry, texts, 400)
    except Conflict as exc:
        return _entry_error(request, entry, [exc.detail], 409)
    messages.success(
        request,
        f"Offered {format_local(offer.start, offer.location)} to {entry.patient.full_name}; "
        "the patient is told the same way as an automatic offer.",
    )
    return redirect(reverse("scheduling:waitlist-entry", args=[entry.pk]))


def _entry_error(request: HttpRequest, entry: WaitlistEntry, errors: list[str], status: int):
    entry = waitlist_entry_for(request.user, entry.pk)  # as it is now, not as tried
    context = _entry_context(request, entry) | {"errors": errors}
    return render(request, "scheduling/waitlist_entry.html", context, status=status)
