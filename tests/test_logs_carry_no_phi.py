"""The access log of a real server (gunicorn, this repository's gunicorn.conf.py) carries no
patient's name, date of birth or phone, and no token of a link path, after the front desk
searches patients every way it can, opens a chart, and link, verification, reset and calendar
paths are opened. The database is a fresh one on the shared server (a copy of the migrated
test database), dropped afterwards."""

import http.cookiejar
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import psycopg2
import pytest
from django_otp.oath import TOTP

from clinic.core.phones import format_phone
from tests.support import (
    artifacts,
    child_env,
    free_port,
    restore_database,
    server_url,
    start,
    stop,
    wait_for,
)

DEMO_PASSWORD = "clinic-demo-2026"  # the demo logins' password (README)


@dataclass(frozen=True)
class DemoPatient:
    pk: str
    first: str
    last: str
    born: date
    phone: str

    def secrets_in_logs(self) -> list[str]:
        """Everything about this patient that must never reach a log line."""
        found = [self.first, self.last, self.born.isoformat(), self.born.strftime("%m/%d/%Y")]
        if self.phone:
            found += [self.phone, format_phone(self.phone), self.phone.removeprefix("+1")]
        return found


@pytest.fixture
def fresh_database(migrated_dump) -> Iterator[str]:
    """A new database on the shared server (the one DATABASE_URL names), migrated, dropped."""
    base = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    name = f"{base.path.strip('/')}_logs_{uuid.uuid4().hex[:8]}"
    admin = base._replace(path="/postgres").geturl()
    connection = psycopg2.connect(admin)
    connection.autocommit = True  # CREATE / DROP DATABASE run outside a transaction
    try:
        connection.cursor().execute(f'CREATE DATABASE "{name}"')
        restore_database(migrated_dump, server_url(name))
        yield base._replace(path=f"/{name}").geturl()
    finally:
        connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


def manage(database_url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        env=child_env(DATABASE_URL=database_url),
        check=True,
        timeout=900,
        capture_output=True,
    )


def demo_patients(database_url: str) -> list[DemoPatient]:
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, legal_first_name, legal_last_name, date_of_birth, phone"
            " FROM patients_patient ORDER BY legal_last_name"
        )
        rows = cursor.fetchall()
    connection.close()
    return [DemoPatient(str(row[0]), *row[1:]) for row in rows]


def current_totp(database_url: str, username: str) -> str:
    """The code the user's authenticator app shows now (the demo staff's second step)."""
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.key FROM otp_totp_totpdevice d JOIN users_user u ON u.id = d.user_id"
            " WHERE u.username = %s AND d.confirmed",
            [username],
        )
        (key,) = cursor.fetchone()
    connection.close()
    return f"{TOTP(bytes.fromhex(key)).token():06d}"


class Browser:
    """urllib with a cookie jar: signs in and posts forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        """Posts `data` with the CSRF token of the page at `path` (fetched first)."""
        _, html, _ = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token, f"no CSRF token on {path}"
        body = urllib.parse.urlencode(data | {"csrfmiddlewaretoken": token.group(1)}).encode()
        return self._open(urllib.request.Request(self.base + path, body))

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.url
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.url


def search_every_way(browser: Browser, patient: DemoPatient) -> None:
    terms = [patient.last, patient.born.isoformat(), patient.born.strftime("%m/%d/%Y")]
    if patient.phone:
        terms += [format_phone(patient.phone), patient.phone]
    for term in terms:
        status, html, url = browser.post("/patients/", {"q": term})
        assert status == 200 and f'href="/patients/{patient.pk}/"' in html, term
        assert urllib.parse.urlsplit(url).query == "", url
    status, html, _ = browser.post("/desk/waitlist/", {"q": patient.last})
    assert status == 200 and f'value="{patient.pk}"' in html
    # A hand-typed query string is not searched, nor written to the access log.
    assert browser.get(f"/patients/?q={urllib.parse.quote(patient.last)}")[0] == 200


@pytest.mark.worker
def test_the_access_log_carries_no_patient_data_and_no_link_token(fresh_database):
    manage(fresh_database, "seed_demo", "--force", "--patients", "3")
    patients = demo_patients(fresh_database)
    assert len(patients) >= 3
    port = free_port()
    log_path = artifacts("logs", "logs-carry-no-phi-gunicorn.log")
    env = child_env(
        DATABASE_URL=fresh_database, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1"
    )
    server = start([sys.executable, "-m", "gunicorn", "clinic.wsgi"], env, log_path)
    browser = Browser(f"http://127.0.0.1:{port}")
    tokens = [secrets.token_urlsafe(32) for _ in range(4)]
    try:
        wait_for(
            lambda: browser.get("/accounts/login/")[0] == 200,
            120,
            "gunicorn to answer",
            process=server,
        )
        status, _, url = browser.post(
            "/accounts/login/", {"username": "frontdesk", "password": DEMO_PASSWORD}
        )
        assert status == 200 and "/accounts/two-factor/" in url, url
        code = current_totp(fresh_database, "frontdesk")
        status, _, url = browser.post("/accounts/two-factor/", {"code": code, "next": "/"})
        assert status == 200 and "/accounts/" not in url, url
        for patient in patients:
            search_every_way(browser, patient)
            assert browser.get(f"/patients/{patient.pk}/")[0] == 200
        assert browser.get(f"/m/{tokens[0]}/")[0] in (404, 410)
        assert browser.get(f"/accounts/verify/{tokens[1]}/")[0] < 500
        assert browser.get(f"/accounts/password-reset/MQ/{tokens[2]}/")[0] < 500
        assert browser.get(f"/calendars/providers/{tokens[3]}.ics")[0] < 500
    finally:
        stop(server)
    log = log_path.read_text()
    assert '"POST /patients/ HTTP/1.1" 200' in log, log  # the access log was written
    assert '"GET /m/…/ HTTP/1.1"' in log and "/accounts/password-reset/…/…/" in log, log
    for patient in patients:
        for secret in patient.secrets_in_logs():
            assert not re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", log), secret
    for token in tokens:
        assert token not in log
    assert not re.search(r"/m/[A-Za-z0-9_-]{32,}", log), log
