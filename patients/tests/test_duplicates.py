from datetime import date

import pytest

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from patients import services
from patients.models import DuplicateCandidate, Patient, PatientMerge
from patients.selectors import patient_search
from patients.tests.conftest import intake_answers

pytestmark = pytest.mark.django_db
BORN = date(1958, 7, 14)


def create(first, last, born=BORN, **fields):
    return services.patient_create(
        by=Actor.system(),
        legal_first_name=first,
        legal_last_name=last,
        date_of_birth=born,
        **fields,
    )


def test_same_birth_date_and_similar_name_is_listed():
    original = create("Katherine", "Johnson")
    newcomer = create("Katharine", "Jonson")
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.patient, candidate.match) == (newcomer, original)
    assert candidate.reasons == ["same date of birth and a similar name"]
    assert candidate.name_similarity > 0.45


def test_same_birth_date_with_a_different_name_is_not_a_duplicate():
    create("Katherine", "Johnson")
    create("Marcus", "Whitfield")
    assert not DuplicateCandidate.objects.exists()


def test_similar_name_with_another_birth_date_is_not_a_duplicate():
    create("Katherine", "Johnson")
    create("Katherine", "Johnson", born=date(1961, 1, 2))
    assert not DuplicateCandidate.objects.exists()


def test_same_phone_or_email_is_listed_with_its_reason():
    create("Ann", "Lee", born=date(1950, 1, 1), phone="919-555-0101", email="lee@example.org")
    create("Bo", "Lee", born=date(1990, 5, 5), phone="(919) 555-0101")
    create("Cy", "Park", born=date(1980, 3, 3), email="LEE@example.org")
    reasons = sorted(tuple(c.reasons) for c in DuplicateCandidate.objects.all())
    assert reasons == [("same email",), ("same phone",)]


def test_a_merge_moves_every_related_row_and_is_recorded(
    clinician_user, front_desk_user, fill_chart, patient_user
):
    survivor = create("Katherine", "Johnson", phone="919-555-0150")
    merged = create("Katharine", "Jonson", email="kj@example.org", insurance_payer="Aetna")
    fill_chart(survivor)
    fill_chart(merged)
    services.intake_submit(patient=merged, by=Actor.desk(front_desk_user), answers=intake_answers())
    candidate = DuplicateCandidate.objects.get()
    before = {
        name: getattr(survivor, name).count() + getattr(merged, name).count()
        for name in ("allergies", "medications", "conditions", "devices", "assessments", "intakes")
    }

    record = services.patient_merge(
        survivor=survivor, merged=merged, by=Actor.desk(front_desk_user)
    )

    survivor.refresh_from_db()
    merged.refresh_from_db()
    for name, count in before.items():
        assert getattr(survivor, name).count() == count, name
        assert getattr(merged, name).count() == 0, name
    assert merged.merged_into == survivor and merged.status == "inactive"
    assert survivor.email == "kj@example.org" and survivor.insurance_payer == "Aetna"
    assert survivor.phone == "+19195550150", "the survivor's own values win"
    assert record.merged_by == front_desk_user
    assert record.moved["patients.allergy"] == 1
    assert survivor.payer is not None and survivor.payer == merged.payer, "the payer link too"
    assert set(record.moved["filled_fields"]) == {"email", "insurance_payer", "payer"}
    assert record.merged_snapshot["legal_first_name"] == "Katharine"
    candidate.refresh_from_db()
    assert candidate.status == "merged"
    assert list(patient_search(query="Jonson")) == []
    assert list(patient_search(query="Jonson", include_merged=True)) == [merged]


def test_the_portal_login_follows_the_merge(patient_user, front_desk_user):
    merged = patient_user.patient
    survivor = create(merged.legal_first_name, merged.legal_last_name, born=merged.date_of_birth)
    services.patient_merge(survivor=survivor, merged=merged, by=Actor.desk(front_desk_user))
    survivor.refresh_from_db()
    assert survivor.user == patient_user


def test_merging_twice_or_into_itself_is_refused(front_desk_user):
    a, b = create("Katherine", "Johnson"), create("Katharine", "Jonson")
    services.patient_merge(survivor=a, merged=b, by=Actor.desk(front_desk_user))
    with pytest.raises(Conflict):
        services.patient_merge(survivor=a, merged=b, by=Actor.desk(front_desk_user))
    with pytest.raises(ValidationFailed):
        services.patient_merge(survivor=a, merged=a, by=Actor.desk(front_desk_user))
    assert PatientMerge.objects.count() == 1


def test_dismissing_a_pair_closes_it_once(front_desk_user):
    create("Katherine", "Johnson")
    create("Katharine", "Jonson")
    candidate = DuplicateCandidate.objects.get()
    services.duplicate_dismiss(candidate=candidate, by=Actor.desk(front_desk_user))
    candidate.refresh_from_db()
    assert (candidate.status, candidate.resolved_by) == ("dismissed", front_desk_user)
    with pytest.raises(Conflict):
        services.duplicate_dismiss(candidate=candidate, by=Actor.desk(front_desk_user))
    assert Patient.objects.filter(status="active").count() == 2


def test_merge_through_the_api(api_as, front_desk_user):
    a, b = create("Katherine", "Johnson"), create("Katharine", "Jonson")
    candidate = DuplicateCandidate.objects.get()
    client = api_as(front_desk_user)
    listed = client.get("/api/v1/duplicates/").json()
    assert listed["results"][0]["id"] == str(candidate.id)
    stranger = create("Zed", "Zulu", born=date(1999, 9, 9))
    bad = client.post(f"/api/v1/duplicates/{candidate.id}/merge/", {"survivor": str(stranger.id)})
    assert bad.status_code == 400 and "survivor" in bad.json()["fields"]
    done = client.post(f"/api/v1/duplicates/{candidate.id}/merge/", {"survivor": str(a.id)})
    assert done.status_code == 200 and done.json()["id"] == str(a.id)
    b.refresh_from_db()
    assert b.merged_into_id == a.id
    again = client.post(f"/api/v1/duplicates/{candidate.id}/merge/", {"survivor": str(a.id)})
    assert again.status_code == 409


def test_a_dismissed_pair_cannot_be_merged_later(front_desk_user):
    a, b = create("Katherine", "Johnson"), create("Katharine", "Jonson")
    candidate = DuplicateCandidate.objects.get()
    services.duplicate_dismiss(candidate=candidate, by=Actor.desk(front_desk_user))
    with pytest.raises(Conflict, match="already dismissed"):
        services.duplicate_merge(
            candidate=candidate, survivor_id=a.pk, by=Actor.desk(front_desk_user)
        )
    b.refresh_from_db()
    assert b.merged_into is None


def test_a_failed_update_leaves_the_callers_record_as_stored(own_patient):
    phone = own_patient.phone
    with pytest.raises(ValidationFailed):
        services.patient_update(patient=own_patient, phone="12")
    assert own_patient.phone == phone
