import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from clinic.core.errors import Conflict

pytestmark = pytest.mark.django_db
factory = APIRequestFactory()


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    levels = serializers.ListField(child=serializers.CharField(), min_length=1)


class ExampleApi(APIView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        SlotSerializer(data=request.data).is_valid(raise_exception=True)
        raise Conflict("That slot was just taken.", code="slot_taken", alternatives=["a", "b"])


def call(data):
    return ExampleApi.as_view()(factory.post("/x", data, format="json"))


def test_field_errors_come_back_per_field():
    response = call({"start": "not a date"})
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["detail"] == "Some fields are not valid."
    assert set(response.data["fields"]) == {"start", "levels"}
    assert "Datetime has wrong format" in response.data["fields"]["start"][0]


def test_a_domain_conflict_is_a_409_with_its_code_and_extras():
    response = call({"start": "2026-03-08T09:00:00Z", "levels": ["L4-L5"]})
    assert response.status_code == 409
    assert response.data == {
        "code": "slot_taken",
        "detail": "That slot was just taken.",
        "fields": {},
        "alternatives": ["a", "b"],
    }


def test_unknown_api_urls_are_404_in_the_error_shape(api_as, front_desk_user):
    response = api_as(front_desk_user).get("/api/v1/me/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


def test_unknown_pages_are_a_friendly_404(client, front_desk_user):
    client.sign_in(front_desk_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()


def test_method_not_allowed_uses_the_shape(api_as, front_desk_user):
    response = api_as(front_desk_user).delete("/api/v1/me/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
