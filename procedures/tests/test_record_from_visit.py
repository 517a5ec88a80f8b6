"""Recording a procedure from its booked visit (issue 20, point 5): the form starts with the
visit's time, place and provider and the order's side and levels; it shows only the fields the
procedure type uses; fluoroscopy time and dose and the contrast volume are recorded, shown
and in the API."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.users.actor import Actor
from procedures import services
from procedures.models import AuthStatus, ProcedureOrder, ProcedureRecord
from procedures.tests.factories import procedure_type
from scheduling.tests.factories import LocationFactory, ProviderFactory
from scheduling.tests.visits import procedure_visit

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
PUMP_FIELDS = ("pump_reservoir_ml", "pump_concentration", "pump_daily_dose", "next_refill_due")


def authorized(patient, by, code: str, **fields) -> ProcedureOrder:
    kind = procedure_type(code)
    values = {
        "procedure_type": kind,
        "side": "right" if kind.side_applies else "",
        "levels": ["L4-L5", "L5-S1"] if kind.levels_apply else [],
        "indication_code": "M54.16",
        "indication_text": "Lumbar radiculopathy",
        "auth_status": AuthStatus.NOT_NEEDED,
    } | fields
    order = services.order_create(patient=patient, by=Actor.desk(by), **values)
    return services.order_authorize(order=order, by=Actor.desk(by))


def scheduled(patient, by, code: str) -> ProcedureOrder:
    """Booked (without a visit) for two days ahead, its blocks (an RFA without blocks on
    record) overridden: these tests are about the form, not the rules."""
    order = authorized(patient, by, code)
    for finding in services.unresolved_blocks(order):
        services.order_override(
            order=order, finding_code=finding["code"], reason="Test", by=Actor.desk(by)
        )
    return services.order_schedule(
        order=order, planned_date=timezone.localdate() + timedelta(days=2), by=Actor.desk(by)
    )


def form_html(client, order, query: str = "") -> str:
    response = client.get(reverse("procedures:record-create", args=[order.pk]) + query)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def names(html: str) -> set[str]:
    form = html[html.index('class="record-form"') :]
    return set(re.findall(r'name="([a-z_0-9]+)"', form))


def selected(html: str, field: str) -> str:
    select = html[html.index(f'name="{field}"') :]
    select = select[: select.index("</select>")]
    return re.search(r'<option value="([^"]*)" selected>', select).group(1)


def test_the_form_opens_with_the_booked_visits_time_place_and_provider(
    client, clinician_user, own_patient
):
    order = authorized(own_patient, clinician_user, "tfesi_ls")
    visit = procedure_visit(order, days_ahead=1, hour=9)
    client.sign_in(clinician_user)
    local = visit.start.astimezone(visit.location.zone)
    for query in (f"?visit={visit.pk}", ""):  # named, or found as the visit holding the order
        html = form_html(client, order, query)
        assert selected(html, "location") == str(visit.location_id)
        assert selected(html, "performer") == str(visit.provider_id)
        assert f'value="{local:%Y-%m-%dT%H:%M}"' in html and "T09:00" in html
        assert selected(html, "side") == "right"
        checked = re.findall(r'name="levels" value="([^"]+)"[^>]*checked', html)
        assert checked == ["L4-L5", "L5-S1"]
        assert 'id="from-visit"' in html
    assert f'?visit={visit.pk}"' in form_html(client, order, f"?visit={visit.pk}")


def test_the_worklist_links_a_visit_to_its_record_form(client, clinician_user, own_patient, clock):
    clock.move_to(datetime(2026, 12, 10, 15, 0, tzinfo=UTC))  # 08:00 in Denver
    order = authorized(own_patient, clinician_user, "trigger_point")
    visit = procedure_visit(order, days_ahead=0, hour=14)
    client.sign_in(clinician_user)
    html = client.get(reverse("history:worklist")).content.decode()
    link = reverse("procedures:record-create", args=[order.pk]) + f"?visit={visit.pk}"
    assert f'href="{link}"' in html and "Record the procedure" in html


def test_the_day_boards_visit_links_to_its_record_form(client, clinician_user, own_patient):
    order = authorized(own_patient, clinician_user, "tfesi_ls")
    visit = procedure_visit(order, days_ahead=1, hour=10)
    day = visit.start.astimezone(visit.location.zone).date()
    client.sign_in(clinician_user)
    body = client.get(
        reverse("scheduling:calendar-events"),
        {"location": str(visit.location_id), "start": str(day), "end": str(day + timedelta(1))},
    ).json()
    (event,) = [e for e in body["events"] if e.get("id") == str(visit.pk)]
    link = reverse("procedures:record-create", args=[order.pk]) + f"?visit={visit.pk}"
    assert event["extendedProps"]["record_url"] == link
    board = client.get(reverse("scheduling:day-board"), {"location": str(visit.location_id)})
    assert 'data-can-record="true"' in board.content.decode()


@pytest.mark.parametrize(
    ("code", "present", "absent"),
    [
        (
            "tfesi_ls",
            {"side", "levels", "steroid", "steroid_dose_mg", "contrast", "contrast_volume_ml"}
            | {"fluoroscopy_seconds", "fluoroscopy_dose_mgy", "local_anaesthetic"},
            set(PUMP_FIELDS),
        ),
        (
            "itp_refill",
            set(PUMP_FIELDS),
            {"side", "levels", "steroid", "contrast", "contrast_volume_ml"}
            | {"fluoroscopy_seconds", "fluoroscopy_dose_mgy"},
        ),
        (
            "trigger_point",
            {"pre_nrs", "post_nrs", "guidance", "local_anaesthetic"},
            {"side", "levels", "steroid", "contrast", "fluoroscopy_seconds", *PUMP_FIELDS},
        ),
        (
            "rfa_ls",
            {"side", "levels", "fluoroscopy_seconds", "contrast_volume_ml"},
            {"steroid", "steroid_dose_mg", *PUMP_FIELDS},
        ),
    ],
)
def test_only_the_fields_the_procedure_type_uses(
    client, clinician_user, own_patient, code, present, absent
):
    order = scheduled(own_patient, clinician_user, code)
    client.sign_in(clinician_user)
    shown = names(form_html(client, order))
    assert present <= shown, present - shown
    assert not (absent & shown), absent & shown


def test_labels_and_help_are_in_us_spelling_and_plain_words(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    html = form_html(client, scheduled(own_patient, clinician_user, "tfesi_ls"))
    read = html.replace("local_anaesthetic", "")  # the field's name stays, as in the API
    assert "Local anesthetic" in read and "anaesthetic" not in read
    assert "clocks" not in html and "Next pump refill due" not in html
    assert "Fluoroscopy time (seconds)" in html and "Contrast volume (mL)" in html


def post_record(client, order, **fields):
    """The record form posted for `order`, done an hour ago at a New York site."""
    location = LocationFactory(time_zone=NEW_YORK)
    provider = ProviderFactory(locations=[location])
    performed = (timezone.now() - timedelta(hours=1)).astimezone(location.zone)
    body = {
        "location": str(location.pk),
        "performed_at": performed.strftime("%Y-%m-%dT%H:%M"),
        "performer": str(provider.pk),
        "guidance": "fluoroscopy",
        "pre_nrs": "6",
        "post_nrs": "2",
    }
    return client.post(reverse("procedures:record-create", args=[order.pk]), body | fields)


def test_fluoroscopy_and_contrast_are_recorded_shown_and_in_the_api(
    client, clinician_user, own_patient
):
    order = scheduled(own_patient, clinician_user, "tfesi_ls")
    client.sign_in(clinician_user)
    response = post_record(
        client,
        order,
        side="right",
        levels=["L4-L5", "L5-S1"],
        steroid="dexamethasone",
        steroid_dose_mg="10",
        local_anaesthetic="lidocaine 1% 2 mL",
        contrast="iohexol 300",
        contrast_volume_ml="2.5",
        fluoroscopy_seconds="42",
        fluoroscopy_dose_mgy="12.75",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    record = ProcedureRecord.objects.get()
    assert (record.fluoroscopy_seconds, record.fluoroscopy_dose_mgy) == (42, Decimal("12.75"))
    assert record.contrast_volume_ml == Decimal("2.5")
    page = client.get(reverse("procedures:record", args=[record.pk])).content.decode()
    assert "42 s · 12.75 mGy reference air kerma" in page and "iohexol 300 · 2.5 mL" in page
    assert "Local anesthetic" in page
    api = client.get(f"/api/v1/procedure-records/{record.pk}/").json()
    assert api["fluoroscopy_seconds"] == 42
    assert Decimal(api["fluoroscopy_dose_mgy"]) == Decimal("12.75")
    assert Decimal(api["contrast_volume_ml"]) == Decimal("2.5")


def test_negative_imaging_figures_are_field_errors(client, clinician_user, own_patient):
    order = scheduled(own_patient, clinician_user, "rfa_ls")
    client.sign_in(clinician_user)
    response = post_record(
        client,
        order,
        side="right",
        levels=["L4-L5"],
        fluoroscopy_seconds="-5",
        contrast_volume_ml="-1",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_fluoroscopy_seconds_error"' in html
    assert 'id="id_contrast_volume_ml_error"' in html
    assert not ProcedureRecord.objects.exists()


def test_a_pump_refill_records_its_fill(client, clinician_user, own_patient):
    order = scheduled(own_patient, clinician_user, "itp_refill")
    client.sign_in(clinician_user)
    response = post_record(
        client,
        order,
        guidance="landmark",
        pump_reservoir_ml="20",
        pump_concentration="10",
        pump_concentration_unit="mg/mL",
        pump_daily_dose="2",
        pump_dose_unit="mg/day",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ProcedureRecord.objects.get().next_refill_due is not None
