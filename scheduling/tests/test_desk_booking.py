"""The desk books only what availability offers, or overbooks on purpose with a reason; a
procedure books an authorized order after its safety check (service, API and page)."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from procedures import services as procedure_services
from procedures.models import OrderStatus, ProcedureOrder, ProcedureType
from scheduling.availability import free_slots
from scheduling.forms import slot_value
from scheduling.models import Appointment, BookingPolicy, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import RoomKind

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")
RFA = "rfa_ls"


def next_weekday(weekday: int = 0) -> date:
    today = datetime.now(DENVER).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=DENVER)


def desk_site(*, first_name: str = "Ana") -> dict:
    """A Denver site: two physicians working 8:00-17:00 every day, two consult rooms, a
    fluoroscopy suite, the follow-up and the procedure visit types."""
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    doctors = [
        ProviderFactory(locations=[location], first_name=first_name, last_name="Alpha"),
        ProviderFactory(locations=[location], first_name="Ben", last_name="Beta"),
    ]
    for doctor in doctors:
        doctor.procedure_types.add(ProcedureType.objects.get(code=RFA))
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=doctor,
                location=location,
                weekday=weekday,
                start_time=time(8),
                end_time=time(17),
            )
    return {
        "location": location,
        "doctors": doctors,
        "rooms": [RoomFactory(location=location, name=f"Exam {n}") for n in (1, 2)],
        "suite": RoomFactory(location=location, name="Fluoro 1", kind=RoomKind.FLUOROSCOPY),
        "type": AppointmentTypeFactory(name="Follow-up", color="#2e7d32"),
        "procedure": AppointmentTypeFactory(
            code="procedure", name="Procedure", kind="procedure", room_kind=""
        ),
    }


@pytest.fixture
def site(db):
    return desk_site()


def authorized_rfa(patient, clinician, *, override: bool = False) -> ProcedureOrder:
    """An authorized lumbar RFA at two levels; a new patient has no diagnostic blocks on
    record, so the check blocks it until a clinician overrides (`override`)."""
    order = procedure_services.order_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code=RFA),
        by=Actor.desk(clinician),
        side="bilateral",
        levels=["L4-L5", "L5-S1"],
        indication_code="M47.816",
        indication_text="Lumbar facet pain",
        auth_status="not_needed",
    )
    order = procedure_services.order_authorize(order=order, by=Actor.desk(clinician))
    if override:
        procedure_services.order_override(
            order=order,
            finding_code="rfa_needs_positive_blocks",
            reason="Blocks done elsewhere, records on file",
            by=Actor.desk(clinician),
        )
    return order


def book(site, by: Actor, start: datetime, *, patient=None, doctor=0, room=0, **extra):
    return appointment_book(
        patient=patient or PatientFactory(),
        appointment_type=site["type"],
        provider=site["doctors"][doctor],
        location=site["location"],
        room=site["rooms"][room] if room is not None else None,
        start=start,
        by=by,
        **extra,
    )


# --- The service ---------------------------------------------------------------------------


def test_an_offered_slot_books_and_the_slot_carries_its_room(site, front_desk_user):
    day = next_weekday()
    visit = book(site, Actor.desk(front_desk_user), at(day, 9), room=None)
    assert visit.start == at(day, 9)
    assert visit.room == site["rooms"][0], "the room availability offered with the slot"
    assert not visit.overbooked and visit.overbook_reason == ""


@pytest.mark.parametrize("hour, minute", [(3, 0), (9, 5), (17, 0)])
def test_a_time_not_offered_is_a_400_naming_the_nearest_offered_ones(
    site, front_desk_user, hour, minute
):
    day = next_weekday()
    with pytest.raises(ValidationFailed) as caught:
        book(site, Actor.desk(front_desk_user), at(day, hour, minute))
    message = caught.value.fields["start"][0]
    assert "is not offered for Dr. Ana Alpha" in message or "is not offered for" in message
    assert "nearest offered times that day" in message
    nearest = caught.value.extra["alternatives"]
    assert len(nearest) == 3
    starts = [datetime.fromisoformat(a["start"]) for a in nearest]
    assert all(s.astimezone(DENVER).date() == day for s in starts)
    assert all(time(8) <= s.astimezone(DENVER).time() < time(17) for s in starts)
    assert not Appointment.objects.exists()


def test_the_api_the_admin_and_the_pages_are_held_to_offers_the_system_is_not(
    site, front_desk_user
):
    three_am = at(next_weekday(), 3)
    for actor in (Actor.api(front_desk_user), Actor.admin(front_desk_user)):
        with pytest.raises(ValidationFailed):
            book(site, actor, three_am)
    seeded = book(site, Actor.seeding(front_desk_user), three_am)  # the demo seed, imports
    assert seeded.start == three_am and not seeded.overbooked


def test_a_taken_offered_time_is_still_a_409_with_alternatives(site, front_desk_user):
    day = next_weekday()
    book(site, Actor.desk(front_desk_user), at(day, 9))
    with pytest.raises(Conflict) as caught:
        book(site, Actor.desk(front_desk_user), at(day, 9), room=1)
    assert caught.value.code == "slot_taken"
    assert caught.value.extra["alternatives"]
    assert Appointment.objects.count() == 1


def test_an_overbook_with_a_reason_books_on_top_of_another_visit(site, front_desk_user):
    day = next_weekday()
    first = book(site, Actor.desk(front_desk_user), at(day, 9))
    second = book(
        site,
        Actor.desk(front_desk_user),
        at(day, 9, 10),
        room=1,
        overbook_reason="  Post-op wound check, Dr. Alpha asked to squeeze in  ",
    )
    assert second.overbooked
    assert second.overbook_reason == "Post-op wound check, Dr. Alpha asked to squeeze in"
    assert second.booked_by == front_desk_user, "who overbooked, and when (created_at)"
    assert first.provider == second.provider
    assert Appointment.objects.filter(overbooked=True).count() == 1


def test_an_overbook_outside_hours_books_at_night_only_with_its_reason(site, manager_user):
    three_am = at(next_weekday(), 3)
    visit = book(site, Actor.desk(manager_user), three_am, overbook_reason="Flying out at 6")
    assert visit.start == three_am and visit.overbooked


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_overbook_without_a_reason_is_a_400(site, front_desk_user, reason):
    with pytest.raises(ValidationFailed) as caught:
        book(site, Actor.desk(front_desk_user), at(next_weekday(), 3), overbook_reason=reason)
    assert set(caught.value.fields) == {"overbook_reason"}
    assert not Appointment.objects.exists()


def test_only_the_roles_the_policy_names_may_overbook(
    site, front_desk_user, manager_user, patient_user, own_patient
):
    policy = BookingPolicy.current()
    policy.overbook_roles = ["manager"]
    policy.save()
    three_am = at(next_weekday(), 3)
    with pytest.raises(Forbidden) as caught:
        book(site, Actor.desk(front_desk_user), three_am, overbook_reason="Asked by Dr. Alpha")
    assert caught.value.code == "overbook_not_allowed"
    assert "manager" in caught.value.detail
    with pytest.raises(Forbidden):
        book(
            site,
            Actor.portal(patient_user),
            three_am,
            patient=own_patient,
            overbook_reason="Please",
        )
    assert not Appointment.objects.exists()
    assert book(site, Actor.desk(manager_user), three_am, overbook_reason="Asked").overbooked


def test_an_overbook_still_never_double_books_a_room_or_a_patient(site, front_desk_user):
    day = next_weekday()
    patient = PatientFactory()
    book(site, Actor.desk(front_desk_user), at(day, 9), patient=patient)
    with pytest.raises(Conflict) as room:
        book(
            site,
            Actor.desk(front_desk_user),
            at(day, 9),
            doctor=1,
            room=0,
            overbook_reason="Squeeze in",
        )
    assert room.value.code == "slot_taken"
    with pytest.raises(Conflict) as busy:
        book(
            site,
            Actor.desk(front_desk_user),
            at(day, 9),
            patient=patient,
            room=1,
            overbook_reason="Squeeze in",
        )
    assert busy.value.code == "patient_busy"
    assert Appointment.objects.count() == 1


def book_rfa(site, order, by: Actor, start: datetime, **extra):
    return appointment_book(
        patient=order.patient,
        appointment_type=site["procedure"],
        provider=site["doctors"][0],
        location=site["location"],
        room=extra.pop("room", None),
        start=start,
        by=by,
        procedure_order=order,
        **extra,
    )


def test_a_procedure_needs_an_authorized_order(site, clinician_user, front_desk_user):
    order = procedure_services.order_create(
        patient=PatientFactory(),
        procedure_type=ProcedureType.objects.get(code=RFA),
        by=Actor.desk(clinician_user),
        side="left",
        levels=["L4-L5"],
        indication_code="M47.816",
        indication_text="Lumbar facet pain",
        auth_status="pending",
    )
    with pytest.raises(Conflict) as caught:
        book_rfa(site, order, Actor.desk(front_desk_user), at(next_weekday(), 9))
    assert caught.value.code == "illegal_transition"
    with pytest.raises(ValidationFailed) as caught_again:
        appointment_book(  # a procedure visit without its order
            patient=order.patient,
            appointment_type=site["procedure"],
            provider=site["doctors"][0],
            location=site["location"],
            start=at(next_weekday(), 9),
            by=Actor.desk(front_desk_user),
        )
    assert "procedure_order" in caught_again.value.fields
    assert not Appointment.objects.exists()


def test_a_blocked_procedure_waits_for_the_clinicians_override(
    site, clinician_user, front_desk_user
):
    order = authorized_rfa(PatientFactory(), clinician_user)
    nine = at(next_weekday(), 9)
    with pytest.raises(Conflict) as caught:
        book_rfa(site, order, Actor.desk(front_desk_user), nine)
    assert caught.value.code == "safety_block"
    assert [f["code"] for f in caught.value.extra["findings"]] == ["rfa_needs_positive_blocks"]
    assert not Appointment.objects.exists()
    procedure_services.order_override(
        order=order,
        finding_code="rfa_needs_positive_blocks",
        reason="Blocks done elsewhere",
        by=Actor.desk(clinician_user),
    )
    visit = book_rfa(site, order, Actor.desk(front_desk_user), nine)
    assert visit.room == site["suite"], "the fluoroscopy suite the slot carried"
    # Two levels: the catalog's 45 minutes and 5 more for the second level, then turnover.
    assert visit.end - visit.start == timedelta(minutes=50)
    assert visit.block_end - visit.end == timedelta(minutes=10)
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED


def test_a_procedure_at_a_time_not_offered_for_its_length_is_a_400(
    site, clinician_user, front_desk_user
):
    order = authorized_rfa(PatientFactory(), clinician_user, override=True)
    with pytest.raises(ValidationFailed) as caught:  # 16:30 + 50 minutes ends after 17:00
        book_rfa(site, order, Actor.desk(front_desk_user), at(next_weekday(), 16, 30))
    assert "start" in caught.value.fields
    order.refresh_from_db()
    assert order.status == OrderStatus.AUTHORIZED


# --- The API ---------------------------------------------------------------------------------


def body(site, patient, start: str, **extra) -> dict:
    return {
        "patient": str(patient.pk),
        "appointment_type": site["type"].code,
        "provider": str(site["doctors"][0].pk),
        "location": str(site["location"].pk),
        "start": start,
        **extra,
    }


def local(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute)).isoformat()


def test_api_books_an_offered_time_and_refuses_another_naming_start(
    api_as, site, front_desk_user, other_patient
):
    client = api_as(front_desk_user)
    day = next_weekday()
    booked = client.post("/api/v1/appointments/", body(site, other_patient, local(day, 9)))
    assert booked.status_code == 201, booked.json()
    assert booked.json()["room"] == str(site["rooms"][0].pk)
    assert booked.json()["overbooked"] is False
    refused = client.post("/api/v1/appointments/", body(site, PatientFactory(), local(day, 3)))
    assert refused.status_code == 400
    answer = refused.json()
    assert set(answer["fields"]) == {"start"}
    assert "is not offered" in answer["fields"]["start"][0]
    assert len(answer["alternatives"]) == 3
    assert Appointment.objects.count() == 1


def test_api_overbooks_only_with_a_reason(api_as, site, front_desk_user, other_patient):
    client = api_as(front_desk_user)
    day = next_weekday()
    client.post("/api/v1/appointments/", body(site, PatientFactory(), local(day, 9)))
    no_reason = client.post(
        "/api/v1/appointments/",
        body(site, other_patient, local(day, 9), overbook=True, room=str(site["rooms"][1].pk)),
    )
    assert no_reason.status_code == 400
    assert set(no_reason.json()["fields"]) == {"overbook_reason"}
    overbooked = client.post(
        "/api/v1/appointments/",
        body(
            site,
            other_patient,
            local(day, 9),
            room=str(site["rooms"][1].pk),
            overbook_reason="Dr. Alpha asked to fit her in",
        ),
    )
    assert overbooked.status_code == 201, overbooked.json()
    assert overbooked.json()["overbooked"] is True
    assert overbooked.json()["overbook_reason"] == "Dr. Alpha asked to fit her in"
    same_room = client.post(
        "/api/v1/appointments/",
        body(
            site,
            PatientFactory(),
            local(day, 9),
            room=str(site["rooms"][1].pk),
            overbook_reason="And one more",
        ),
    )
    assert same_room.status_code == 409 and same_room.json()["code"] == "slot_taken"


def test_api_refuses_an_overbook_to_a_role_the_policy_leaves_out(
    api_as, site, front_desk_user, patient_user, own_patient
):
    policy = BookingPolicy.current()
    policy.overbook_roles = ["clinician"]
    policy.save()
    refused = api_as(front_desk_user).post(
        "/api/v1/appointments/",
        body(site, own_patient, local(next_weekday(), 3), overbook_reason="Asked"),
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "overbook_not_allowed"
    as_patient = api_as(patient_user).post(
        "/api/v1/appointments/",
        body(site, own_patient, local(next_weekday(), 3), overbook_reason="Please"),
    )
    assert as_patient.status_code == 403
    assert not Appointment.objects.exists()


def test_the_schema_documents_overbooking(api_as, front_desk_user):
    schema = api_as(front_desk_user).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "overbook_reason" in text and "naming `start`" in text


# --- The page --------------------------------------------------------------------------------


def offered(site, day: date, **extra):
    return free_slots(
        appointment_type=site["type"],
        location=site["location"],
        start_date=day,
        end_date=day,
        for_staff=True,
        **extra,
    )


def value(slot) -> str:
    return slot_value(slot.provider.pk, slot.room.pk if slot.room else None, slot.start)


def form(site, **fields) -> dict:
    return {"location": str(site["location"].pk), **{k: str(v) for k, v in fields.items()}}


def test_the_page_lists_every_kind_and_offered_times_and_no_typed_time(
    client, front_desk_user, site
):
    client.sign_in(front_desk_user)
    day = next_weekday()
    page = client.get("/desk/book/", {"location": str(site["location"].pk), "date": str(day)})
    assert page.status_code == 200
    html = page.content.decode()
    assert ">Procedure</option>" in html and ">Follow-up</option>" in html
    assert "(optional)" not in html
    assert "Any provider" in html
    main = html.split('class="card overbook"')[0]
    assert 'type="datetime-local"' not in main, "no typed time outside the overbook section"
    slots = offered(site, day)
    assert len(re.findall(r'name="slot"', main)) == len(slots) > 0
    assert "8:00 AM\u20138:20 AM · Dr. Ana Alpha, MD · Exam 1" in main
    assert 'hx-post="/desk/book/patients/"' in html


def test_the_search_answers_as_the_desk_types_and_without_javascript(client, front_desk_user, site):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    client.sign_in(front_desk_user)
    partial = client.post("/desk/book/patients/", {"q": "quintero"})
    assert partial.status_code == 200
    assert f'value="{patient.pk}"' in partial.content.decode()
    assert "<html" not in partial.content.decode()
    page = client.post("/desk/book/", form(site, q=patient.mrn, action="search"))
    assert page.status_code == 200
    assert f'value="{patient.pk}" checked' in page.content.decode()


def test_the_desk_books_an_offered_slot(client, front_desk_user, site):
    patient = PatientFactory()
    client.sign_in(front_desk_user)
    day = next_weekday()
    slot = offered(site, day, provider=site["doctors"][1])[2]
    response = client.post(
        "/desk/book/",
        form(
            site,
            patient=patient.pk,
            appointment_type=site["type"].pk,
            day=day,
            slot=value(slot),
            action="book",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = Appointment.objects.get()
    assert (visit.patient, visit.provider, visit.room, visit.start) == (
        patient,
        slot.provider,
        slot.room,
        slot.start,
    )
    assert response["Location"].startswith("/desk/?")


def test_a_tampered_slot_is_refused_naming_the_nearest_offered_times(client, front_desk_user, site):
    client.sign_in(front_desk_user)
    day = next_weekday()
    three_am = at(day, 3).astimezone(UTC)
    response = client.post(
        "/desk/book/",
        form(
            site,
            patient=PatientFactory().pk,
            appointment_type=site["type"].pk,
            day=day,
            slot=slot_value(site["doctors"][0].pk, site["rooms"][0].pk, three_am),
            action="book",
        ),
    )
    assert response.status_code == 400
    assert "is not offered" in response.content.decode()
    assert "8:00 AM" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_click_on_the_calendar_preselects_its_slot_or_says_it_is_not_offered(
    client, front_desk_user, site
):
    client.sign_in(front_desk_user)
    day = next_weekday()
    doctor = site["doctors"][1]
    slot = next(s for s in offered(site, day, provider=doctor) if s.local_start.hour == 10)
    query = {"location": str(site["location"].pk), "provider": str(doctor.pk)}
    chosen = client.get("/desk/book/", {**query, "start": f"{day}T10:00", "date": str(day)})
    assert chosen.status_code == 200
    assert f'value="{value(slot)}" checked' in chosen.content.decode()
    night = client.get("/desk/book/", {**query, "start": f"{day}T03:00"})
    html = night.content.decode()
    assert "3:00 AM with Dr" in html and "is not an offered time" in html
    assert "Nearest offered: 8:00 AM" in html
    assert " checked" not in html.split('id="slots-title"')[1].split("</fieldset>")[0]
    assert f'name="overbook_start" value="{day}T03:00"' in html, "ready to overbook instead"


def test_a_procedure_shows_its_findings_before_the_desk_confirms(
    client, front_desk_user, clinician_user, site
):
    patient = PatientFactory()
    order = authorized_rfa(patient, clinician_user, override=True)
    client.sign_in(front_desk_user)
    preset = client.get("/desk/book/", {"order": str(order.pk)})
    html = preset.content.decode()
    assert f'value="{order.pk}" checked' in html
    assert f'value="{patient.pk}" checked' in html
    assert "Review the safety check" in html
    day = next_weekday()
    slots = free_slots(
        appointment_type=site["procedure"],
        location=site["location"],
        procedure_type=order.procedure_type,
        levels=2,
        start_date=day,
        end_date=day,
        for_staff=True,
    )
    assert slots[0].end - slots[0].start == timedelta(minutes=50)
    chosen = form(
        site,
        patient=patient.pk,
        appointment_type=site["procedure"].pk,
        order=order.pk,
        day=day,
        slot=value(slots[0]),
    )
    review = client.post("/desk/book/", {**chosen, "action": "book"})
    assert review.status_code == 200
    location_today = timezone.now().astimezone(site["location"].zone).date()
    assert review.context["booking"].review["today"] == location_today, "the visit's place"
    text = review.content.decode()
    assert "Before booking: the safety check" in text
    assert "Facet RFA needs 2 positive medial branch blocks" in text
    assert "Block overridden" in text and "Confirm booking" in text
    assert not Appointment.objects.exists(), "nothing is booked before the confirmation"
    confirmed = client.post("/desk/book/", {**chosen, "action": "confirm"})
    assert confirmed.status_code == 302
    visit = Appointment.objects.get()
    assert visit.procedure_order == order and visit.room == site["suite"]
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED


def test_a_blocked_procedure_has_nothing_to_confirm(client, front_desk_user, clinician_user, site):
    patient = PatientFactory()
    order = authorized_rfa(patient, clinician_user)
    client.sign_in(front_desk_user)
    day = next_weekday()
    slot = free_slots(
        appointment_type=site["procedure"],
        location=site["location"],
        procedure_type=order.procedure_type,
        levels=2,
        start_date=day,
        end_date=day,
        for_staff=True,
    )[0]
    chosen = form(
        site,
        patient=patient.pk,
        appointment_type=site["procedure"].pk,
        order=order.pk,
        day=day,
        slot=value(slot),
    )
    review = client.post("/desk/book/", {**chosen, "action": "book"}).content.decode()
    assert "cannot be booked yet" in review and "Blocks booking" in review
    assert "Confirm booking" not in review
    assert f"/procedures/orders/{order.pk}/" in review
    forced = client.post("/desk/book/", {**chosen, "action": "confirm"})
    assert forced.status_code == 409
    assert not Appointment.objects.exists()


def test_the_desk_overbooks_at_night_only_after_a_plain_warning(client, front_desk_user, site):
    patient = PatientFactory()
    client.sign_in(front_desk_user)
    day = next_weekday()
    fields = form(
        site,
        patient=patient.pk,
        appointment_type=site["type"].pk,
        overbook_start=f"{day}T03:00",
        overbook_provider=site["doctors"][0].pk,
        overbook_room=site["rooms"][0].pk,
        overbook_reason="Follow-up before the flight",
        action="overbook",
    )
    warned = client.post("/desk/book/", fields)
    assert warned.status_code == 200
    text = warned.content.decode()
    assert "Not booked yet." in text and "3:00 AM is at night." in text
    assert "outside Dr" in text and "hours that day" in text
    assert not Appointment.objects.exists()
    booked = client.post("/desk/book/", {**fields, "overbook_confirmed": "on"})
    assert booked.status_code == 302
    visit = Appointment.objects.get()
    assert visit.overbooked and visit.overbook_reason == "Follow-up before the flight"
    assert visit.start == at(day, 3)


def test_an_overbook_inside_hours_needs_no_extra_confirmation(client, front_desk_user, site):
    day = next_weekday()
    book(site, Actor.desk(front_desk_user), at(day, 9))
    client.sign_in(front_desk_user)
    fields = form(
        site,
        patient=PatientFactory().pk,
        appointment_type=site["type"].pk,
        overbook_start=f"{day}T09:00",
        overbook_provider=site["doctors"][0].pk,
        overbook_room=site["rooms"][1].pk,
        overbook_reason="",
        action="overbook",
    )
    warned = client.post("/desk/book/", fields)
    assert "already has a visit then" in warned.content.decode()
    confirmed = {**fields, "overbook_confirmed": "on"}
    no_reason = client.post("/desk/book/", confirmed)
    assert no_reason.status_code == 400
    assert "Say why this visit is overbooked." in no_reason.content.decode()
    booked = client.post("/desk/book/", {**confirmed, "overbook_reason": "Urgent pain"})
    assert booked.status_code == 302
    assert Appointment.objects.filter(overbooked=True).count() == 1


def test_a_role_the_policy_leaves_out_sees_no_overbook_and_is_refused(
    client, front_desk_user, site
):
    policy = BookingPolicy.current()
    policy.overbook_roles = ["manager"]
    policy.save()
    client.sign_in(front_desk_user)
    page = client.get("/desk/book/", {"location": str(site["location"].pk)})
    assert "Overbook" not in page.content.decode()
    refused = client.post(
        "/desk/book/",
        form(
            site,
            patient=PatientFactory().pk,
            appointment_type=site["type"].pk,
            overbook_start=f"{next_weekday()}T03:00",
            overbook_provider=site["doctors"][0].pk,
            overbook_reason="x",
            overbook_confirmed="on",
            action="overbook",
        ),
    )
    assert refused.status_code == 403
    assert not Appointment.objects.exists()


def test_the_order_page_links_to_the_booking_page(client, clinician_user, site):
    order = authorized_rfa(PatientFactory(), clinician_user)
    client.sign_in(clinician_user)
    page = client.get(f"/procedures/orders/{order.pk}/")
    assert f'href="/desk/book/?order={order.pk}"' in page.content.decode()


def test_the_page_reads_a_fixed_number_of_queries(client, front_desk_user, site):
    """As many queries for a busy day with more providers as for an empty one."""
    client.sign_in(front_desk_user)
    day = next_weekday()
    params = {"location": str(site["location"].pk), "date": str(day)}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/desk/book/", params).status_code == 200
        return len(queries)

    count()  # the first read of the booking policy writes its row
    empty = count()
    for hour in (9, 10, 11):
        book(site, Actor.desk(front_desk_user), at(day, hour))
        book(site, Actor.desk(front_desk_user), at(day, hour), doctor=1, room=1)
    extra = ProviderFactory(locations=[site["location"]])
    WorkingHours.objects.create(
        provider=extra,
        location=site["location"],
        weekday=day.weekday(),
        start_time=time(8),
        end_time=time(12),
    )
    assert count() == empty <= 26


def test_a_manager_sets_who_may_overbook_in_the_admin(client, manager_user):
    client.sign_in(manager_user)
    BookingPolicy.current()
    url = "/admin/scheduling/bookingpolicy/1/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="overbook_roles" value="front_desk"' in page.content.decode()
    saved = client.post(
        url,
        {"max_future_bookings": 3, "change_cutoff_hours": 24, "overbook_roles": ["manager"]},
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert BookingPolicy.current().overbook_roles == ["manager"]
