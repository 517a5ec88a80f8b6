"""Two web servers on one database keep every invariant: a booking storm split across two
gunicorn instances, on four overlapping times of three providers who share the one room,
is answered 201 or 409 `slot_taken`/`patient_busy` with alternatives, never a 5xx, and
PostgreSQL holds no two visits that overlap for a provider, a room or a patient."""

import http.client
import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import connection

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment
from scheduling.overlaps import overlapping_pairs
from scheduling.tests.factories import one_room_clinic
from tests.signin import totp_code_for
from tests.support import artifacts, child_env, free_port, start, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

CLIENTS, ROUNDS = 24, 5
BOOK = "/api/v1/appointments/"


def answer(port: int, method: str, path: str, body=None, headers=None, conn=None):
    """Status and JSON body of one request (on `conn`, kept alive, when given)."""
    own = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        sent = {"Content-Type": "application/json"} | (headers or {})
        own.request(method, path, body=json.dumps(body) if body else None, headers=sent)
        response = own.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text.startswith(b"{") else text
    finally:
        if conn is None:
            own.close()


@pytest.fixture
def two_servers() -> Iterator[list[int]]:
    """Two gunicorn instances (two sync workers each) on the test database."""
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    servers = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = child_env(
                DATABASE_URL=url,
                GUNICORN_BIND=f"127.0.0.1:{port}",
                GUNICORN_WORKERS="2",
                LOG_LEVEL="WARNING",
            )
            log = artifacts("logs", f"two-web-servers-{name}.log")
            process = start([sys.executable, "-m", "gunicorn", "clinic.wsgi"], env, log)
            servers.append((port, process, log))
        for port, process, _ in servers:
            wait_for(
                lambda port=port: answer(port, "GET", "/healthz")[0],
                120,
                "gunicorn",
                process=process,
            )
        yield [port for port, _, _ in servers]
    finally:
        for _, process, _ in servers:
            stop(process)
    for _, _, log in servers:
        text = log.read_text()
        assert "Traceback" not in text and "Internal Server Error" not in text, text[-3000:]


@pytest.fixture
def site(make_user):
    patients = [PatientFactory(email="", phone="") for _ in range(CLIENTS)]
    return one_room_clinic(patients) | {"desk": make_user("storm-desk", Role.FRONT_DESK)}


def booking(site, number: int) -> dict:
    return {
        "patient": str(site["patients"][number % CLIENTS].pk),
        "appointment_type": site["type"].code,
        "provider": str(site["providers"][number % 3].pk),
        "location": str(site["location"].pk),
        "room": str(site["room"].pk),
        "start": site["starts"][(number // 3) % 4].isoformat(),
    }


def test_a_storm_split_across_two_web_servers_keeps_every_invariant(two_servers, site):
    status, token = answer(
        two_servers[0],
        "POST",
        "/api/v1/auth/token/",
        {"username": "storm-desk", "password": TEST_PASSWORD, "otp": totp_code_for("storm-desk")},
    )
    assert status == 200, token
    headers = {"Authorization": f"Token {token['token']}"}
    outcomes: Counter = Counter()
    by_server: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        port = two_servers[number % 2]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait(timeout=60)
        try:
            for round_ in range(ROUNDS):
                status, body = answer(
                    port, "POST", BOOK, booking(site, number * ROUNDS + round_), headers, conn
                )
                conn.close()  # sync workers close after each answer anyway
                if status == 409:
                    outcome = f"409 {body['code']} {len(body['alternatives']) > 0}"
                else:
                    outcome = str(status)
                with lock:
                    outcomes[outcome] += 1
                    by_server[port] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a request was never answered"

    assert sum(outcomes.values()) == CLIENTS * ROUNDS
    assert set(outcomes) <= {"201", "409 slot_taken True", "409 patient_busy True"}, outcomes
    assert outcomes["201"] >= 1 and outcomes["409 slot_taken True"] >= 1, outcomes
    assert set(by_server) == set(two_servers), by_server
    assert Appointment.objects.count() == outcomes["201"]
    assert overlapping_pairs() == 0
