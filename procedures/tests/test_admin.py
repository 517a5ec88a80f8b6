"""Orders and records are read-only in the admin; an order is cancelled there only through
order_cancel, with a reason, and a refusal is a message, not a 500."""

import pytest

from procedures.models import AuthStatus, OrderStatus
from procedures.tests.test_pages import new_order

pytestmark = pytest.mark.django_db

ORDERS = "/admin/procedures/procedureorder/"


@pytest.fixture
def admin_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.sign_in(manager_user)
    return client


def cancel(client, order, reason: str):
    data = {"action": "cancel_with_reason", "_selected_action": [str(order.pk)]}
    assert client.post(ORDERS, data).status_code == 200
    return client.post(ORDERS, data | {"apply": "yes", "reason": reason})


def test_an_order_is_cancelled_in_the_admin_through_the_service(
    admin_client, own_patient, clinician_user, manager_user
):
    order = new_order(own_patient, clinician_user)
    response = cancel(admin_client, order, "Patient moved away")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "Patient moved away" and order.cancelled_by == manager_user


def test_cancelling_a_cancelled_order_is_a_message_not_a_500(
    admin_client, own_patient, clinician_user
):
    order = new_order(own_patient, clinician_user)
    cancel(admin_client, order, "Duplicate order")
    response = cancel(admin_client, order, "Again")
    assert response.status_code == 302
    page = admin_client.get(ORDERS)
    assert "cancelled" in page.content.decode().lower()
    order.refresh_from_db()
    assert order.cancel_reason == "Duplicate order"


def test_a_request_for_authorization_is_recorded_in_the_admin_through_the_service(
    admin_client, own_patient, clinician_user, manager_user
):
    pending = new_order(own_patient, clinician_user, auth_status=AuthStatus.PENDING)
    not_needed = new_order(own_patient, clinician_user)
    data = {
        "action": "request_authorization",
        "_selected_action": [str(pending.pk), str(not_needed.pk)],
    }
    confirm = admin_client.post(ORDERS, data)
    assert (
        confirm.status_code == 200 and "Record that prior authorization" in confirm.content.decode()
    )
    assert admin_client.post(ORDERS, data | {"apply": "yes"}).status_code == 302
    pending.refresh_from_db()
    assert pending.auth_status == AuthStatus.REQUESTED
    assert pending.auth_requested_by == manager_user and pending.auth_requested_at
    not_needed.refresh_from_db()  # not needed -> requested is a legal move too
    assert not_needed.auth_status == AuthStatus.REQUESTED
    again = admin_client.post(ORDERS, data | {"apply": "yes"}, follow=True)
    assert "already requested" in again.content.decode()  # a message, not a 500


def test_orders_and_records_are_read_only(admin_client, own_patient, clinician_user):
    order = new_order(own_patient, clinician_user)
    assert admin_client.get(f"{ORDERS}add/").status_code == 403
    refused = admin_client.post(f"{ORDERS}{order.pk}/change/", {"status": "performed"})
    assert refused.status_code == 403
    assert admin_client.get("/admin/procedures/procedurerecord/add/").status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED
