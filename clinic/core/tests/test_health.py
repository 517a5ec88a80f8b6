import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import override_settings

from clinic.core.health import BEAT_HEARTBEAT_KEY
from clinic.core.tasks import beat_heartbeat
from tests.support import child_env

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["broker"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_broker_is_unreachable(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["components"]["broker"]["status"] == "error"
    assert body["components"]["database"]["status"] == "ok"


def test_healthz_is_503_when_the_database_is_unreachable():
    """In a separate process whose DATABASE_URL points at a closed port."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client; r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = child_env(
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["components"]["database"] == {
        "status": "error",
        "error": "OperationalError",
    }
    assert outcome["body"]["components"]["broker"]["status"] == "ok"


def test_scheduler_heartbeat_is_reported_without_failing_the_check(client):
    cache.delete(BEAT_HEARTBEAT_KEY)
    assert client.get("/healthz").json()["components"]["scheduler"]["status"] == "unknown"
    beat_heartbeat.apply()
    scheduler = client.get("/healthz").json()["components"]["scheduler"]
    assert scheduler["status"] == "ok"
    assert scheduler["last_heartbeat"]


def test_a_stale_heartbeat_is_flagged(client):
    cache.set(BEAT_HEARTBEAT_KEY, "2020-01-01T00:00:00+00:00")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["components"]["scheduler"]["status"] == "stale"


@override_settings(ALLOWED_HOSTS=["clinic.example.org"], SECURE_SSL_REDIRECT=True)
def test_healthz_answers_by_ip_over_plain_http(client):
    """Container and load-balancer checks call it by IP; other pages stay protected."""
    assert client.get("/healthz", HTTP_HOST="10.0.0.5:8000").status_code == 200
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.5:8000").status_code == 400
    redirect = client.get("/accounts/login/", HTTP_HOST="clinic.example.org")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
