"""While the database cannot be reached, pages and the API answer 503 with Retry-After
(never 500), the outage is logged once, and the site recovers by itself when the database
is back. The database is a private cluster this test starts and stops; gunicorn serves."""

import json
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from tests.support import (
    PrivatePostgres,
    artifacts,
    child_env,
    free_port,
    restore_database,
    start,
    stop,
    wait_for,
)

WRONG_PASSWORD = {"username": "nobody@example.org", "password": "not-the-password"}


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self) -> dict:
        return json.loads(self.text)


def fetch(request: urllib.request.Request) -> Answer:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="clinic-outage-", dir="/tmp"))
    folder.chmod(0o755)
    cluster = PrivatePostgres(folder)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def migrated_database(cluster: PrivatePostgres, dump: Path) -> str:
    """A database in the cluster, a copy of the migrated test database."""
    connection = psycopg2.connect(cluster.url())
    connection.autocommit = True  # CREATE DATABASE runs outside a transaction
    try:
        connection.cursor().execute("CREATE DATABASE clinic")
    finally:
        connection.close()
    url = cluster.url("clinic")
    restore_database(dump, url)
    return url


def token_attempt(base: str) -> Answer:
    """Reaches the users table: 400 while the database answers."""
    body = json.dumps(WRONG_PASSWORD).encode()
    headers = {"Content-Type": "application/json"}
    return fetch(urllib.request.Request(f"{base}/api/v1/auth/token/", body, headers))


def staff_page(base: str) -> Answer:
    """A session cookie makes the page read the session table before anything else."""
    headers = {"Cookie": "sessionid=" + "x" * 32}
    return fetch(urllib.request.Request(f"{base}/patients/", headers=headers))


@pytest.mark.worker
def test_a_database_outage_is_a_503_with_retry_after_logged_once_and_heals(
    private_postgres, migrated_dump
):
    database_url = migrated_database(private_postgres, migrated_dump)
    port = free_port()
    log_path = artifacts("logs", "database-outage-gunicorn.log")
    env = child_env(
        DATABASE_URL=database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        LOG_LEVEL="INFO",
    )
    server = start([sys.executable, "-m", "gunicorn", "clinic.wsgi"], env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        first = wait_for(lambda: token_attempt(base), 120, "gunicorn to answer", process=server)
        assert first.status_code == 400

        private_postgres.stop()
        answers = [token_attempt(base), staff_page(base), token_attempt(base), staff_page(base)]
        assert [a.status_code for a in answers] == [503, 503, 503, 503]
        assert all(a.headers["Retry-After"] == "30" for a in answers)
        assert answers[0].json()["code"] == "database_unavailable"
        assert "cannot be reached" in answers[1].text

        private_postgres.start()
        wait_for(
            lambda: token_attempt(base).status_code == 400,
            120,
            "the site to recover",
            process=server,
        )
    finally:
        stop(server)
    log = log_path.read_text()
    assert log.count("database unreachable") == 1, log
    assert log.count("database reachable again") == 1, log
    assert "Internal Server Error" not in log
    assert " 500 " not in log
