"""A physician records consent before a procedure, then reviews, edits and signs its note in
Chromium: the signed note is locked (no section can be edited), takes an addendum, shows in
the history timeline, and opens as a PDF whose text is checked. Screenshots are kept in
artifacts/screenshots/."""

import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from procedures import services
from procedures.models import AuthStatus, NoteStatus, ProcedureConsent, ProcedureNote
from procedures.tests.factories import procedure_type
from scheduling.tests.factories import LocationFactory, ProviderFactory
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in
from tests.support import artifacts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scheduled(make_user):
    """A physician with a provider record and a lumbar TFESI booked for today."""
    physician = make_user("drvance", Role.CLINICIAN, first_name="Ada", last_name="Vance")
    location = LocationFactory(time_zone="America/Chicago", name="Lakeshore Pain Center")
    ProviderFactory(
        locations=[location], first_name="Ada", last_name="Vance", credentials="MD", user=physician
    )
    patient = PatientFactory(legal_first_name="Lena", legal_last_name="Marsh")
    by = Actor.desk(physician)
    order = services.order_create(
        patient=patient,
        procedure_type=procedure_type("tfesi_ls"),
        by=by,
        side="right",
        levels=["L5-S1"],
        indication_code="M54.17",
        indication_text="Lumbosacral radiculopathy",
        auth_status=AuthStatus.NOT_NEEDED,
    )
    services.order_authorize(order=order, by=by)
    order = services.order_schedule(order=order, planned_date=timezone.localdate(), by=by)
    return {"physician": physician, "order": order, "location": location}


def perform(scheduled):
    physician, order = scheduled["physician"], scheduled["order"]
    return services.record_create(
        order=order,
        by=Actor.desk(physician),
        performed_at=timezone.now(),  # after the consent taken on the page
        performer=physician.provider,
        location=scheduled["location"],
        side="right",
        levels=["L5-S1"],
        guidance="fluoroscopy",
        pre_nrs=8,
        post_nrs=3,
        fluoroscopy_seconds=41,
        fluoroscopy_dose_mgy="6.5",
        contrast_volume_ml="1.5",
    )


def test_consent_review_sign_and_the_locked_note(page, live_server, scheduled):
    url, order = live_server.url, scheduled["order"]
    sign_in(page, url, "drvance", TEST_PASSWORD)

    # Before the procedure: the consent, from the order page.
    page.goto(f"{url}/procedures/orders/{order.pk}/")
    page.get_by_role("link", name="Informed consent").click()
    page.get_by_role("heading", name="Record the consent you took").wait_for()
    page.get_by_role("button", name="Record the consent").click()  # nothing ticked
    assert page.locator("fieldset.risks .field-errors").is_visible()
    risks = order.procedure_type.consent_risks
    for risk in risks[:4]:
        page.get_by_label(risk, exact=True).check()
    page.get_by_label("Alternatives discussed (including no procedure)").check()
    screenshot(page, "note-consent")
    page.get_by_role("button", name="Record the consent").click()
    page.get_by_text("Consent recorded.").wait_for()
    taken = ProcedureConsent.objects.get()
    assert taken.risks_discussed == risks[:4] and taken.obtained_by == scheduled["physician"]

    # After it: the record's note, prefilled, reviewed, edited and signed.
    record = perform(scheduled)
    page.goto(f"{url}/procedures/records/{record.pk}/")
    page.get_by_role("link", name="Write the procedure note").click()
    page.get_by_role("heading", name="Review each section, then sign").wait_for()
    assert page.get_by_label("Indication").input_value() == "Lumbosacral radiculopathy (M54.17)"
    assert (
        "Reference air kerma 6.5 mGy" in page.get_by_label("Fluoroscopy and contrast").input_value()
    )
    assert "Consent on record" in page.locator("main").inner_text()
    page.get_by_label("Complications").fill(
        "None. Transient leg numbness, resolved before discharge."
    )
    screenshot(page, "note-review")
    page.get_by_role("button", name="Sign and lock the note").click()
    page.get_by_text("Note signed and locked.").wait_for()
    main = page.locator("main")
    assert "Signed and locked" in main.inner_text()
    assert "Transient leg numbness" in main.inner_text()
    assert "Electronically signed by Dr. Ada Vance, MD" in main.inner_text()
    assert page.get_by_role("button", name="Sign and lock the note").count() == 0
    assert page.locator("textarea[name=technique]").count() == 0
    screenshot(page, "note-signed")
    note = ProcedureNote.objects.get()
    assert note.status == NoteStatus.SIGNED and note.consent == taken

    # A change after signing is an addendum.
    page.get_by_label("Addendum", exact=True).fill("Next-day call: leg numbness gone.")
    page.get_by_label("Why the note is amended").fill("Next-day call")
    page.get_by_role("button", name="Add the addendum").click()
    page.get_by_text("Addendum added to the signed note.").wait_for()
    assert "Reason: Next-day call" in page.locator("main").inner_text()

    # The PDF, opened and read.
    pdf = page.request.get(f"{url}/procedures/records/{record.pk}/note/pdf/")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    artifacts("pdf", f"procedure-note-{page.viewport_name}.pdf").write_bytes(pdf.body())
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.body())).pages
    )
    assert "Transforaminal epidural steroid injection - lumbar/sacral" in text
    assert "Right; L5-S1." in text and "Electronically signed by Dr. Ada Vance, MD" in text
    assert "Next-day call: leg numbness gone." in text

    # The history timeline links the signing to the note.
    page.goto(f"{url}/patients/{record.patient_id}/history/")
    link = page.get_by_role("link", name="Procedure note signed by Dr. Ada Vance, MD")
    link.first.scroll_into_view_if_needed()
    screenshot(page, "note-in-timeline")
    link.first.click()
    page.wait_for_url(f"{url}/procedures/records/{record.pk}/note/")
    assert "Signed and locked" in page.locator("main").inner_text()
