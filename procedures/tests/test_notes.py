"""The procedure note and the consent before it: prefilled from the record, signed and locked
(by the services and by PostgreSQL), amended only by addenda; the consent rule with its
override; the PDF; the history timeline's entry; who may read and write."""

import io
from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clinic.audit.models import AuditEvent
from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor
from clinic.users.roles import Role
from history.selectors import patient_history
from patients import services as patient_services
from patients.tests.factories import PatientFactory
from procedures import consent, notes, services
from procedures.models import (
    AuthStatus,
    NoteAddendum,
    NoteStatus,
    ProcedureConsent,
    ProcedureNote,
    ProcedureType,
)
from procedures.tests.factories import procedure_type
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

OVERRIDE_REASON = "Emergency: consent form lost in the scanner; patient confirmed by phone"


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def clinician(make_user):
    return make_user("drhale", Role.CLINICIAN, first_name="Nora", last_name="Hale")


@pytest.fixture
def site(clinician):
    location = LocationFactory(time_zone="America/New_York", name="Riverside Pain Center")
    provider = ProviderFactory(
        locations=[location], first_name="Nora", last_name="Hale", credentials="MD"
    )
    provider.user = clinician
    provider.save()
    return location, provider


@pytest.fixture
def order(clinician):
    patient = PatientFactory(legal_first_name="Iris", legal_last_name="Benton")
    order = services.order_create(
        patient=patient,
        procedure_type=procedure_type("tfesi_ls"),
        by=Actor.desk(clinician),
        side="left",
        levels=["L4-L5", "L5-S1"],
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status=AuthStatus.NOT_NEEDED,
    )
    services.order_authorize(order=order, by=Actor.desk(clinician))
    return services.order_schedule(
        order=order, planned_date=timezone.localdate(), by=Actor.desk(clinician)
    )


def take_consent(order, by, *, hours_ago: float = 3) -> ProcedureConsent:
    risks = order.procedure_type.consent_risks
    return consent.consent_record(
        order=order,
        by=Actor.desk(by),
        risks_discussed=risks[:3],
        obtained_at=timezone.now() - timedelta(hours=hours_ago),
        alternatives_discussed=True,
        questions_answered=True,
    )


def perform(order, by, site, **fields):
    location, provider = site
    values = {
        "performed_at": timezone.now() - timedelta(hours=2),
        "performer": provider,
        "location": location,
        "side": "left",
        "levels": ["L4-L5", "L5-S1"],
        "guidance": "fluoroscopy",
        "pre_nrs": 7,
        "post_nrs": 2,
        "fluoroscopy_seconds": 38,
        "contrast_volume_ml": 2,
        "local_anaesthetic": "Lidocaine 1% 3 mL",
        "contrast": "Iohexol 300",
    } | fields
    return services.record_create(order=order, by=Actor.desk(by), **values)


@pytest.fixture
def record(order, clinician, site):
    take_consent(order, clinician)
    return perform(order, clinician, site)


def signed(record, by) -> ProcedureNote:
    prefill = notes.note_prefill(record, consent.consent_before(record))
    return notes.note_sign(record=record, by=Actor.desk(by), **prefill)


# --- The catalog's consent risks -------------------------------------------------------------


def test_every_catalog_entry_has_consent_risks_flagged_to_confirm():
    for kind in ProcedureType.objects.all():
        assert len(kind.consent_risks) >= 5, kind.code
        assert "consent_risks" in kind.uncertain_fields
    esi = procedure_type("tfesi_ls").consent_risks
    assert any("dural puncture" in risk for risk in esi)
    assert not any("pocket fill" in risk for risk in esi)
    assert any("pocket fill" in risk for risk in procedure_type("itp_refill").consent_risks)


def test_a_managers_own_risk_list_is_kept_when_the_data_loads_again():
    from django.apps import apps

    kind = procedure_type("trigger_point")
    kind.consent_risks = ["Our own wording"]
    kind.save()
    consent.add_consent_risks(apps)
    kind.refresh_from_db()
    assert kind.consent_risks == ["Our own wording"]


# --- Consent ------------------------------------------------------------------------------------


class TestConsent:
    def test_recorded_with_who_when_and_the_risks(self, order, clinician):
        taken = take_consent(order, clinician)
        assert taken.obtained_by == clinician and taken.patient_id == order.patient_id
        assert taken.risks_discussed == order.procedure_type.consent_risks[:3]

    def test_risks_must_come_from_the_catalog_and_be_named(self, order, clinician):
        with pytest.raises(ValidationFailed) as empty:
            consent.consent_record(order=order, by=Actor.desk(clinician), risks_discussed=[])
        assert "risks_discussed" in empty.value.fields
        with pytest.raises(ValidationFailed) as unknown:
            consent.consent_record(
                order=order, by=Actor.desk(clinician), risks_discussed=["Made up"]
            )
        assert "risks_discussed" in unknown.value.fields
        assert not ProcedureConsent.objects.exists()

    def test_not_in_the_future_nor_after_the_procedure(self, order, clinician, site):
        risks = order.procedure_type.consent_risks[:1]
        with pytest.raises(ValidationFailed) as future:
            consent.consent_record(
                order=order,
                by=Actor.desk(clinician),
                risks_discussed=risks,
                obtained_at=timezone.now() + timedelta(hours=1),
            )
        assert "obtained_at" in future.value.fields
        record = perform(order, clinician, site)
        with pytest.raises(ValidationFailed) as after:
            consent.consent_record(
                order=order,
                by=Actor.desk(clinician),
                risks_discussed=risks,
                obtained_at=record.performed_at + timedelta(minutes=30),
            )
        assert "before the procedure" in after.value.fields["obtained_at"][0]

    def test_a_representative_is_named(self, order, clinician):
        with pytest.raises(ValidationFailed) as error:
            consent.consent_record(
                order=order,
                by=Actor.desk(clinician),
                risks_discussed=order.procedure_type.consent_risks[:1],
                given_by="representative",
            )
        assert "representative_name" in error.value.fields

    def test_not_for_a_cancelled_order(self, client, order, clinician):
        services.order_unschedule(order=order, by=Actor.desk(clinician))
        services.order_cancel(order=order, reason="Patient moved away", by=Actor.desk(clinician))
        with pytest.raises(Conflict):
            take_consent(order, clinician)
        client.sign_in(clinician)
        path = reverse("procedures:order-consent", args=[order.pk])
        risk = order.procedure_type.consent_risks[0]
        response = client.post(path, {"given_by": "patient", "risks_discussed": [risk]})
        assert response.status_code == 409 and not ProcedureConsent.objects.exists()

    def test_managers_read_the_consent_page(self, client, order, clinician, manager_user):
        take_consent(order, clinician)
        client.sign_in(manager_user)
        path = reverse("procedures:order-consent", args=[order.pk])
        html = client.get(path).content.decode()
        assert order.procedure_type.consent_risks[0] in html
        assert "Record the consent you took" not in html
        risk = order.procedure_type.consent_risks[0]
        forbidden = client.post(path, {"given_by": "patient", "risks_discussed": [risk]})
        assert forbidden.status_code == 403 and ProcedureConsent.objects.count() == 1

    def test_only_a_clinician_takes_it(self, order, manager_user, front_desk_user):
        for user in (manager_user, front_desk_user):
            with pytest.raises(Forbidden):
                take_consent(order, user)

    def test_the_database_keeps_it_as_taken(self, order, clinician):
        taken = take_consent(order, clinician)
        with pytest.raises(DatabaseError), transaction.atomic():
            ProcedureConsent.objects.filter(pk=taken.pk).update(other_risks="changed")
        with pytest.raises(DatabaseError), transaction.atomic():
            ProcedureConsent.objects.filter(pk=taken.pk).delete()


# --- The note: prefill, sign, lock, addendum -------------------------------------------------


class TestNote:
    def test_prefilled_from_the_record_its_order_and_consent(self, record):
        prefill = notes.note_prefill(record, consent.consent_before(record))
        assert prefill["indication"] == "Lumbar radiculopathy (M54.16)"
        assert prefill["levels"] == "Left; L4-L5, L5-S1."
        assert "Informed consent given by the patient" in prefill["consent_summary"]
        assert "Lidocaine 1% 3 mL" in prefill["medications"]
        assert "Fluoroscopy time 38 s." in prefill["imaging"]
        assert "Contrast volume 2 mL." in prefill["imaging"]
        assert "Dose not recorded." in prefill["imaging"]
        assert "Pain NRS 7 before and 2 after." in prefill["disposition"]
        assert "an outcome survey at 14 days" in prefill["follow_up_plan"]
        assert "pump" not in " ".join(prefill.values()).lower()

    def test_signed_with_the_signer_and_the_consent(self, record, clinician):
        note = signed(record, clinician)
        assert note.status == NoteStatus.SIGNED
        assert note.signed_by == clinician and note.signer_name == "Dr. Nora Hale, MD"
        assert note.consent == consent.consent_before(record)
        assert note.consent_override_reason == ""

    def test_a_draft_is_saved_and_edited_before_signing(self, record, clinician):
        draft = notes.note_save_draft(
            record=record, by=Actor.desk(clinician), technique="First words"
        )
        again = notes.note_save_draft(
            record=record, by=Actor.desk(clinician), technique="Better words"
        )
        assert again.pk == draft.pk and again.status == NoteStatus.DRAFT
        assert ProcedureNote.objects.get().technique == "Better words"

    def test_every_section_is_written_before_signing(self, record, clinician):
        with pytest.raises(ValidationFailed) as error:
            notes.note_sign(record=record, by=Actor.desk(clinician), technique="Only this")
        assert "indication" in error.value.fields and "technique" not in error.value.fields
        assert not ProcedureNote.objects.exists()  # nothing half-written

    def test_the_services_refuse_to_change_a_signed_note(self, record, clinician):
        signed(record, clinician)
        for write in (notes.note_save_draft, notes.note_sign):
            with pytest.raises(Conflict) as refused:
                write(record=record, by=Actor.desk(clinician), technique="Rewritten")
            assert refused.value.code == "note_signed"
        assert ProcedureNote.objects.get().technique != "Rewritten"

    def test_the_database_refuses_to_change_or_delete_a_signed_note(self, record, clinician):
        note = signed(record, clinician)
        with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
            ProcedureNote.objects.filter(pk=note.pk).update(technique="Rewritten")
        with pytest.raises(DatabaseError), transaction.atomic():
            note.status = NoteStatus.DRAFT
            note.save()
        with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
            ProcedureNote.objects.filter(pk=note.pk).delete()
        assert ProcedureNote.objects.get().status == NoteStatus.SIGNED

    def test_a_draft_is_not_locked_by_the_database(self, record, clinician):
        draft = notes.note_save_draft(record=record, by=Actor.desk(clinician), technique="x")
        assert ProcedureNote.objects.filter(pk=draft.pk).update(technique="y") == 1

    def test_an_addendum_says_who_when_and_why(self, record, clinician):
        note = signed(record, clinician)
        addendum = notes.note_add_addendum(
            note=note,
            by=Actor.desk(clinician),
            text="Mild headache at the next-day call; resolved with fluids.",
            reason="Next-day call finding",
        )
        assert addendum.written_by == clinician and addendum.writer_name == "Dr. Nora Hale, MD"
        assert timezone.now() - addendum.written_at < timedelta(minutes=1)
        assert list(note.addenda.all()) == [addendum]
        note.refresh_from_db()
        assert note.status == NoteStatus.SIGNED  # the signed text is untouched

    def test_an_addendum_needs_text_and_a_reason(self, record, clinician):
        note = signed(record, clinician)
        with pytest.raises(ValidationFailed) as error:
            notes.note_add_addendum(note=note, by=Actor.desk(clinician), text=" ", reason="")
        assert set(error.value.fields) == {"text", "reason"}

    def test_a_draft_takes_no_addendum_and_addenda_are_kept(self, record, clinician):
        draft = notes.note_save_draft(record=record, by=Actor.desk(clinician), technique="x")
        with pytest.raises(Conflict):
            notes.note_add_addendum(note=draft, by=Actor.desk(clinician), text="t", reason="r")
        with pytest.raises(DatabaseError, match="signed note only"), transaction.atomic():
            NoteAddendum.objects.create(
                note=draft,
                patient_id=draft.patient_id,
                text="t",
                reason="r",
                written_by=clinician,
                writer_name="x",
            )
        note = signed(record, clinician)
        addendum = notes.note_add_addendum(
            note=note, by=Actor.desk(clinician), text="t", reason="r"
        )
        with pytest.raises(DatabaseError), transaction.atomic():
            NoteAddendum.objects.filter(pk=addendum.pk).update(text="changed")

    def test_the_write_history_names_the_signer(self, record, clinician):
        note = signed(record, clinician)
        event = note.events.select_related("pgh_context").get(pgh_label="insert")
        assert event.pgh_context.metadata["user"] == str(clinician.pk)
        assert event.status == NoteStatus.SIGNED

    def test_a_patient_merge_still_moves_signed_notes(self, record, clinician, manager_user):
        note = signed(record, clinician)
        notes.note_add_addendum(note=note, by=Actor.desk(clinician), text="t", reason="r")
        survivor = PatientFactory()
        patient_services.patient_merge(
            survivor=survivor, merged=record.patient, by=Actor.desk(manager_user)
        )
        note.refresh_from_db()
        assert note.patient == survivor and note.status == NoteStatus.SIGNED
        assert NoteAddendum.objects.get().patient == survivor


# --- The consent rule -----------------------------------------------------------------------------


class TestConsentRule:
    def test_no_consent_no_signature(self, order, clinician, site):
        record = perform(order, clinician, site)
        prefill = notes.note_prefill(record, None)
        with pytest.raises(ValidationFailed) as refused:
            notes.note_sign(record=record, by=Actor.desk(clinician), **prefill)
        assert refused.value.fields["consent_override_reason"] == [notes.NO_CONSENT]
        assert not ProcedureNote.objects.exists()

    def test_a_consent_taken_after_the_procedure_does_not_count(self, order, clinician, site):
        record = perform(order, clinician, site)
        ProcedureConsent.objects.create(  # as if typed in with a wrong time, bypassing the form
            order=order,
            patient=order.patient,
            risks_discussed=["x"],
            obtained_by=clinician,
            obtained_at=record.performed_at + timedelta(minutes=5),
        )
        assert consent.consent_before(record) is None
        with pytest.raises(ValidationFailed):
            notes.note_sign(
                record=record, by=Actor.desk(clinician), **notes.note_prefill(record, None)
            )

    def test_overridden_with_a_reason_kept_on_the_note(self, order, clinician, site):
        record = perform(order, clinician, site)
        note = notes.note_sign(
            record=record,
            by=Actor.desk(clinician),
            consent_override_reason=f"  {OVERRIDE_REASON} ",
            **notes.note_prefill(record, None),
        )
        assert note.consent is None and note.consent_override_reason == OVERRIDE_REASON
        event = note.events.select_related("pgh_context").get(pgh_label="insert")
        assert event.consent_override_reason == OVERRIDE_REASON
        assert event.pgh_context.metadata["user"] == str(clinician.pk)

    def test_the_database_refuses_a_signed_note_without_consent_or_reason(self, record):
        note = ProcedureNote(
            record=record,
            patient=record.patient,
            status=NoteStatus.SIGNED,
            signed_by=record.recorded_by,
            signed_at=timezone.now(),
        )
        with pytest.raises(DatabaseError), transaction.atomic():
            note.save()

    def test_with_a_consent_an_override_reason_is_not_kept(self, record, clinician):
        note = notes.note_sign(
            record=record,
            by=Actor.desk(clinician),
            consent_override_reason="not needed",
            **notes.note_prefill(record, consent.consent_before(record)),
        )
        assert note.consent is not None and note.consent_override_reason == ""


# --- Who may ------------------------------------------------------------------------------------


class TestRoles:
    def test_only_a_clinician_writes_and_signs(self, record, manager_user, front_desk_user):
        for user in (manager_user, front_desk_user):
            with pytest.raises(Forbidden):
                notes.note_save_draft(record=record, by=Actor.desk(user), technique="x")
            with pytest.raises(Forbidden):
                signed(record, user)

    def test_the_pages_for_each_role(
        self, client, record, clinician, manager_user, front_desk_user, patient_user
    ):
        note_url = reverse("procedures:note", args=[record.pk])
        client.sign_in(clinician)
        assert 'name="action" value="sign"' in client.get(note_url).content.decode()
        client.sign_in(manager_user)
        html = client.get(note_url).content.decode()
        assert "No note yet" in html and 'value="sign"' not in html
        assert client.post(note_url, {"action": "save", "technique": "x"}).status_code == 403
        for user in (front_desk_user, patient_user):
            client.sign_in(user)
            assert client.get(note_url).status_code in (403, 404)
            pdf = reverse("procedures:note-pdf", args=[record.pk])
            assert client.get(pdf).status_code in (403, 404)
        assert not ProcedureNote.objects.exists()

    def test_the_admin_reads_and_never_writes(self, record, clinician, manager_user):
        signed(record, clinician)
        for user in (manager_user, clinician):
            assert user.has_perm("procedures.view_procedurenote")
            assert not user.has_perm("procedures.change_procedurenote")
            assert user.has_perm("procedures.view_procedureconsent")


# --- The pages ---------------------------------------------------------------------------------


def note_form(record, *, action: str, **changes) -> dict:
    body = notes.note_prefill(record, consent.consent_before(record)) | changes
    return body | {"action": action}


class TestPages:
    def test_review_edit_and_sign(self, client, record, clinician):
        client.sign_in(clinician)
        note_url = reverse("procedures:note", args=[record.pk])
        html = client.get(note_url).content.decode()
        assert "Lumbar radiculopathy (M54.16)" in html and "Consent on record" in html
        body = note_form(record, action="sign", complications="Brief vasovagal episode.")
        response = client.post(note_url, body)
        assert response.status_code == 302
        html = client.get(note_url).content.decode()
        assert "Signed and locked" in html and "Brief vasovagal episode." in html
        assert "<textarea" in html  # the addendum's, not the sections'
        assert 'name="technique"' not in html
        again = client.post(note_url, body | {"technique": "changed"})
        assert again.status_code == 409
        assert ProcedureNote.objects.get().technique != "changed"

    def test_a_signature_without_consent_shows_the_reason_field_in_focus(
        self, client, order, clinician, site
    ):
        record = perform(order, clinician, site)
        client.sign_in(clinician)
        note_url = reverse("procedures:note", args=[record.pk])
        assert "No consent on record" in client.get(note_url).content.decode()
        response = client.post(note_url, note_form(record, action="sign"))
        assert response.status_code == 400
        html = response.content.decode()
        assert notes.NO_CONSENT in html
        assert 'name="consent_override_reason"' in html and "autofocus" in html
        assert not ProcedureNote.objects.exists()
        signed_ok = client.post(
            note_url, note_form(record, action="sign", consent_override_reason=OVERRIDE_REASON)
        )
        assert signed_ok.status_code == 302
        assert ProcedureNote.objects.get().consent_override_reason == OVERRIDE_REASON

    def test_an_addendum_from_the_page(self, client, record, clinician):
        signed(record, clinician)
        client.sign_in(clinician)
        path = reverse("procedures:note-addendum", args=[record.pk])
        empty = client.post(path, {"text": "", "reason": ""})
        assert empty.status_code == 400
        assert (
            client.post(path, {"text": "Called: fine.", "reason": "Follow-up"}).status_code == 302
        )
        html = client.get(reverse("procedures:note", args=[record.pk])).content.decode()
        assert "Called: fine." in html and "Reason: Follow-up" in html

    def test_consent_page_records_the_consent(self, client, order, clinician):
        client.sign_in(clinician)
        path = reverse("procedures:order-consent", args=[order.pk])
        html = client.get(path).content.decode()
        risks = order.procedure_type.consent_risks
        assert risks[0] in html
        missing = client.post(path, {"given_by": "patient"})
        assert missing.status_code == 400 and "autofocus" in missing.content.decode()
        done = client.post(path, {"given_by": "patient", "risks_discussed": risks[:2]})
        assert done.status_code == 302
        assert ProcedureConsent.objects.get().risks_discussed == risks[:2]

    def test_reads_are_audited(self, client, record, clinician):
        signed(record, clinician)
        client.sign_in(clinician)
        for name in ("procedures:note", "procedures:note-pdf"):
            before = AuditEvent.objects.count()
            assert client.get(reverse(name, args=[record.pk])).status_code == 200
            event = AuditEvent.objects.order_by("-at").first()
            assert AuditEvent.objects.count() == before + 1
            assert event.patients == [record.patient_id] and event.user == clinician


# --- The PDF and the timeline ---------------------------------------------------------------------


def test_the_pdf_holds_the_procedure_levels_and_signer(client, record, clinician):
    note = signed(record, clinician)
    notes.note_add_addendum(
        note=note, by=Actor.desk(clinician), text="Next-day call: well.", reason="Follow-up"
    )
    client.sign_in(clinician)
    response = client.get(reverse("procedures:note-pdf", args=[record.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "Benton" not in response["Content-Disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Transforaminal epidural steroid injection - lumbar/sacral" in text
    assert "Left; L4-L5, L5-S1." in text
    assert "Electronically signed by Dr. Nora Hale, MD" in text
    assert "Iris Benton" in text
    assert "Next-day call: well." in text


def test_the_timeline_shows_the_signing_with_a_link(client, record, clinician):
    assert not [e for e in patient_history(patient=record.patient)["events"] if e["kind"] == "note"]
    note = signed(record, clinician)
    events = [e for e in patient_history(patient=record.patient)["events"] if e["kind"] == "note"]
    link = reverse("procedures:note", args=[record.pk])
    assert len(events) == 1
    assert events[0]["at"] == note.signed_at and events[0]["url"] == link
    assert events[0]["title"].startswith("Procedure note signed by Dr. Nora Hale, MD")
    client.sign_in(clinician)
    html = client.get(reverse("patient-history", args=[record.patient_id])).content.decode()
    assert f'<a href="{link}">Procedure note signed by' in html
