"""`make run` end to end: its script sets up, migrates, seeds and starts web, worker and beat.

It runs against a database and a Redis database number of its own (named after the suite's:
DATABASE_URL's database + "_run_check", REDIS_URL's number + 1, so that suites run side by
side with their own never meet), on a free port, and stops everything it started. The clinic must serve its login page, report the database,
broker and scheduler healthy, let a demo login in and run a task on its own worker.
"""

import base64
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from urllib.parse import urlsplit

import psycopg2
import pytest
from django.db import connection
from django_otp.oath import TOTP

from tests.support import ROOT, artifacts, child_env, free_port, start, stop, wait_for

pytestmark = pytest.mark.worker
DEMO_PASSWORD = "run-check-password"
RUN_DATABASE = urlsplit(os.environ.get("DATABASE_URL", "/clinic")).path.strip("/") + "_run_check"


# `make run` deploys straight onto PostgreSQL, not through the suite's PgBouncer.
POOLER_KEYS = {"DATABASE_POOLER", "DATABASE_DIRECT_URL", "PGBOUNCER_PORT"}


def database_url(name: str) -> str:
    direct = os.environ.get("DATABASE_DIRECT_URL")
    if direct:
        return re.sub(r"/[^/]*$", f"/{name}", direct)
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"


def drop_database() -> None:
    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {RUN_DATABASE} WITH (FORCE)")
    admin.close()


def next_redis_db() -> str:
    """REDIS_URL with the database number after its own."""
    base = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    number = int(base.path.strip("/") or 0) + 1
    return base._replace(path=f"/{number}").geturl()


@pytest.fixture(scope="module")
def running_clinic(django_db_blocker):
    with django_db_blocker.unblock():
        url = database_url(RUN_DATABASE)
    drop_database()
    port = free_port()
    env = {
        key: value
        for key, value in child_env().items()
        if not key.startswith("DJANGO_") and key not in POOLER_KEYS
    } | {
        "DATABASE_URL": url,
        "REDIS_URL": next_redis_db(),
        "CLINIC_PORT": str(port),
        "DEMO_PASSWORD": DEMO_PASSWORD,
    }
    log = artifacts("logs", "make-run.log")
    process = start(["bash", "scripts/run.sh"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: urllib.request.urlopen(f"{base}/accounts/login/", timeout=5),
            420,  # a backstop: set-up, migrations and the demo data on a loaded machine
            f"the login page of the running clinic (see {log})",
            process=process,
        )
        yield {"base": base, "env": env, "process": process, "log": log}
    finally:
        stop(process)
        drop_database()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_serves_the_login_page(running_clinic):
    with urllib.request.urlopen(f"{running_clinic['base']}/accounts/login/") as response:
        page = response.read().decode()
    assert response.status == 200
    assert 'name="username"' in page and "Sign in" in page


def test_health_reports_database_broker_and_beat(running_clinic):
    def beat_seen():
        health = get_json(f"{running_clinic['base']}/healthz")
        return health if health["components"]["scheduler"]["status"] == "ok" else None

    health = wait_for(beat_seen, 90, "beat's heartbeat in /healthz")
    assert health["status"] == "ok"
    assert health["components"]["database"]["status"] == "ok"
    assert health["components"]["broker"]["status"] == "ok"


def test_a_demo_login_reaches_its_home(running_clinic):
    base = running_clinic["base"]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {"username": "frontdesk", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": base}
    )
    with opener.open(request) as response:
        assert response.geturl() == f"{base}/accounts/two-factor/?next=%2F"
        form = response.read().decode()
    # The second step, with the code an app set up from the key `make run` printed shows.
    key = re.search(r"frontdesk\s+key: ([A-Z2-7 ]+)\n", running_clinic["log"].read_text())
    assert key, "make run prints the demo front desk's authenticator key"
    code = TOTP(base64.b32decode(key.group(1).replace(" ", ""))).token()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {"code": f"{code:06d}", "next": "/", "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/two-factor/", data=data, headers={"Referer": base}
    )
    with opener.open(request) as response:
        assert response.geturl() == f"{base}/desk/"
        page = response.read().decode()
    assert "Day board" in page
    assert "Oak City Pain &amp; Spine" in page, "the demo clinic was loaded"


def test_its_worker_runs_tasks(running_clinic):
    script = (
        "from clinic.core.tasks import ping;"
        "print(ping.delay('through-make-run').get(timeout=60)['pong'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=running_clinic["env"] | {"DJANGO_SETTINGS_MODULE": "clinic.settings.local"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "through-make-run", result.stderr
