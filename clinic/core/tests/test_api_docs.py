import pytest

pytestmark = pytest.mark.django_db


def test_schema_documents_the_auth_and_me_endpoints(client, front_desk_user):
    client.sign_in(front_desk_user)  # the schema and docs are for signed-in staff only
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Clinic API"
    assert "/api/v1/auth/token/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/auth/token/"]
    me = schema["paths"]["/api/v1/me/"]["get"]
    properties = schema["components"]["schemas"]["Me"]["properties"]
    assert {"username", "role", "patient"} <= set(properties)
    assert me["responses"]["200"]


def test_docs_page_loads_its_assets_from_this_server(client, front_desk_user):
    client.sign_in(front_desk_user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
