"""Prior authorization as a sequence (issue 20, point 3): request it, record the payer's
answer, then authorize. Who requested and when is kept, in the order and its history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.core.errors import Conflict
from clinic.users.actor import Actor
from procedures import services
from procedures.models import AuthStatus, ProcedureOrder
from procedures.tests.test_pages import new_order

pytestmark = pytest.mark.django_db

STATUSES = list(AuthStatus.values)
LEGAL = {
    ("pending", "requested"),
    ("pending", "not_needed"),
    ("requested", "approved"),
    ("requested", "denied"),
    ("requested", "not_needed"),
    ("approved", "approved"),
    ("approved", "requested"),
    ("denied", "requested"),
    ("not_needed", "pending"),
    ("not_needed", "requested"),
}


def approval() -> dict:
    return {"auth_number": "PA-9", "auth_expires": timezone.localdate() + timedelta(days=60)}


def order_in(patient, by, status: str) -> ProcedureOrder:
    return new_order(
        patient, by, auth_status=status, **(approval() if status == "approved" else {})
    )


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("to", STATUSES)
def test_each_authorization_move_is_legal_or_a_409(own_patient, clinician_user, start, to):
    order = order_in(own_patient, clinician_user, start)
    answer = approval() if to == "approved" else {}
    move = lambda: services.order_set_authorization(  # noqa: E731
        order=order, auth_status=to, by=Actor.desk(clinician_user), **answer
    )
    if (start, to) in LEGAL:
        assert move().auth_status == to
        return
    with pytest.raises(Conflict) as refused:
        move()
    assert refused.value.code == "illegal_authorization_move"
    assert refused.value.status_code == 409
    order.refresh_from_db()
    assert order.auth_status == start  # nothing written


def test_an_order_written_as_requested_names_who_requested_it(own_patient, clinician_user):
    order = new_order(own_patient, clinician_user, auth_status=AuthStatus.REQUESTED)
    assert order.auth_requested_by == clinician_user and order.auth_requested_at is not None


def test_the_request_is_kept_in_the_orders_history_with_the_page(
    client, front_desk_user, clinician_user, own_patient
):
    order = new_order(own_patient, clinician_user, auth_status=AuthStatus.PENDING)
    client.sign_in(front_desk_user)
    path = reverse("procedures:order-request-authorization", args=[order.pk])
    assert client.get(path).status_code == 405  # a POST only
    assert client.post(path).status_code == 302
    latest = order.events.select_related("pgh_context").order_by("pgh_id").last()
    assert (latest.pgh_label, latest.auth_status) == ("change_to", AuthStatus.REQUESTED)
    assert latest.auth_requested_by_id == front_desk_user.pk and latest.auth_requested_at
    assert latest.pgh_context.metadata["url"] == path
    order.refresh_from_db()
    (finding,) = [f for f in order.findings if f["code"] == "prior_auth"]
    assert finding["severity"] == "warn" and "requested from the payer" in finding["reason"]
    assert "Record the payer's answer" in finding["action"]


def test_the_page_shows_who_requested_and_offers_the_answer_first(
    client, front_desk_user, clinician_user, own_patient
):
    order = new_order(own_patient, clinician_user, auth_status=AuthStatus.PENDING)
    services.order_request_authorization(order=order, by=Actor.desk(front_desk_user))
    client.sign_in(clinician_user)
    html = client.get(reverse("procedures:order", args=[order.pk])).content.decode()
    assert "Authorization requested" in html and "Requested from the payer" in html
    assert "Record the payer's answer below when it comes" in html


def test_a_patient_cannot_request_authorization(client, patient_user, own_patient, clinician_user):
    order = new_order(own_patient, clinician_user, auth_status=AuthStatus.PENDING)
    client.sign_in(patient_user)
    path = reverse("procedures:order-request-authorization", args=[order.pk])
    assert client.post(path).status_code in (302, 403, 404)
    order.refresh_from_db()
    assert order.auth_status == AuthStatus.PENDING
