"""A form shown again with errors opens on the first field in error (`autofocus`, no script:
decision 0040): the order form, the record form and the procedure note."""

import re

import pytest
from django.urls import reverse

from procedures.tests.test_notes import clinician, note_form, order, record, site  # noqa: F401
from procedures.tests.test_order_pages import body
from procedures.tests.test_record_from_visit import scheduled

pytestmark = pytest.mark.django_db


def focused(html: str) -> list[str]:
    """The names of the inputs, selects and text areas that carry `autofocus`."""
    tags = re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
    return [re.search(r'name="([^"]+)"', tag).group(1) for tag in tags if " autofocus" in tag]


def test_an_invalid_order_opens_on_the_field_in_error(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    url = reverse("procedures:order-create") + f"?patient={own_patient.pk}"
    assert focused(client.get(url).content.decode()) == []
    response = client.post(url, body(indication_text="", urgency="someday"))
    assert response.status_code == 400
    assert focused(response.content.decode()) == ["indication_text"]


def test_a_service_refusal_on_the_order_opens_on_its_field(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    url = reverse("procedures:order-create") + f"?patient={own_patient.pk}"
    response = client.post(url, body(levels=["C5-C6"]))  # not a lumbar level
    assert response.status_code == 400
    # Each checkbox of the group carries it; the browser focuses the first.
    assert set(focused(response.content.decode())) == {"levels"}


def test_an_invalid_record_opens_on_the_field_in_error(client, clinician_user, own_patient):
    booked = scheduled(own_patient, clinician_user, "tfesi_ls")
    client.sign_in(clinician_user)
    url = reverse("procedures:record-create", args=[booked.pk])
    assert focused(client.get(url).content.decode()) == []
    response = client.post(url, {"guidance": "fluoroscopy", "pre_nrs": "7", "post_nrs": "11"})
    assert response.status_code == 400
    # The first field in error on the page, not the last one the clean method found.
    assert focused(response.content.decode()) == ["location"]


def test_a_note_signed_with_an_empty_section_opens_on_it(client, record, clinician):  # noqa: F811
    client.sign_in(clinician)
    url = reverse("procedures:note", args=[record.pk])
    response = client.post(url, note_form(record, action="sign", disposition=""))
    assert response.status_code == 400
    assert focused(response.content.decode()) == ["disposition"]
