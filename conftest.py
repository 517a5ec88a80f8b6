"""Fixtures shared by every test: users in each role and API clients signed in as them; the
one clock for tests that depend on today; the reference data a transactional test's flush
empties."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from clinic.users.roles import STAFF_ROLES, Role
from clinic.users.services import user_upsert
from tests import flush
from tests.signin import SignedInClient, give_authenticator
from tests.support import dump_test_database

# The brokers the tests with a Celery worker run on, Redis and RabbitMQ: the `broker` fixture.
pytest_plugins = ["tests.brokers"]

TEST_PASSWORD = "correct-horse-battery"  # noqa: S105

# ---------------------------------------------------------------------------------------------
# The clock. Every test that depends on today uses `clock` (or is marked `date_sensitive`,
# which starts it for the test). `pytest --clock-at=...` (or CLINIC_TEST_CLOCK) starts it at a
# given instant and runs every in-process test there; tests marked `date_sensitive` also run
# at the late hours below in a plain run. Tests with a child process (a Celery worker, the
# browser) keep the real clock: the child cannot share ours.

CLOCK_ENV = "CLINIC_TEST_CLOCK"
# The hours at which a clinic's local date is not the UTC date: late evening in Denver (already
# tomorrow in UTC) and just after midnight UTC (still yesterday evening in the Americas). Taken
# on the real today of their zone, so each day's run meets a different weekday.
LATE_HOURS = {
    "denver-2330": (time(23, 30), ZoneInfo("America/Denver")),
    "utc-0030": (time(0, 30), ZoneInfo("UTC")),
}
REAL_NOW = "now"
SUBPROCESS_MARKERS = ("worker", "browser")
clock_starts_key = pytest.StashKey[dict[str, datetime | None]]()
clock_at_key = pytest.StashKey[datetime | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at",
        default=None,
        help=(
            "Run every test without a child process with the clock at this instant: ISO 8601 "
            f"with an offset (2026-12-03T23:30-07:00) or one of {', '.join(LATE_HOURS)}. "
            f"Default: ${CLOCK_ENV}, else the real clock."
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    flush.install()  # transactional tests' flush deletes rows instead of truncating (see there)
    late = {name: late_instant(name) for name in LATE_HOURS}
    config.stash[clock_starts_key] = {REAL_NOW: None, **late}
    text = config.getoption("clock_at") or os.environ.get(CLOCK_ENV)
    config.stash[clock_at_key] = parse_clock_at(text, late) if text else None


def pytest_report_header(config: pytest.Config) -> str:
    clock_at = config.stash[clock_at_key]
    if clock_at:
        return f"clock: every in-process test starts at {clock_at.isoformat()}"
    late = [f"{when:%Y-%m-%d %H:%M %Z}" for when in config.stash[clock_starts_key].values() if when]
    return f"clock: real; date_sensitive tests also at {' and '.join(late)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test marked `date_sensitive` now and at each late hour (once with --clock-at)."""
    node = metafunc.definition
    if not node.get_closest_marker("date_sensitive") or runs_subprocess(node):
        return
    if metafunc.config.stash[clock_at_key] is None:
        starts = list(metafunc.config.stash[clock_starts_key])
        metafunc.parametrize("clock_start", starts, indirect=True, scope="function")


def late_instant(name: str) -> datetime:
    """The late hour `name` (a key of LATE_HOURS) on the real today of its zone."""
    hour, zone = LATE_HOURS[name]
    real_today = datetime.now(zone).date()  # called at configure time, before any travel
    return datetime.combine(real_today, hour, tzinfo=zone)


def parse_clock_at(text: str, late: dict[str, datetime]) -> datetime:
    if text in late:
        return late[text]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"--clock-at={text!r} is not an ISO 8601 instant") from None
    if when.tzinfo is None:
        raise pytest.UsageError(f"--clock-at={text!r} needs an offset, e.g. -07:00 or Z")
    return when


# Under pytest-xdist (scripts/test.sh: --dist loadscope --no-loadscope-reorder) a worker takes
# whole modules in the order collected. The modules whose tests start processes (Celery
# workers, servers, Chromium) take longest: collected first, they start first and the many
# short modules fill in behind them, instead of a long one starting last while the other
# worker has nothing left to do. Every test with a worker has queues, ports and a RabbitMQ
# vhost of its own (tests/brokers.py, tests/support.py), so none needs to run alone.


@pytest.hookimpl(trylast=True)  # after pytest-django's order (transactional tests last)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # a plain run keeps pytest-django's order
        return
    rank = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        rank[module] = min(rank.get(module, 2), module_rank(item))
    items.sort(key=lambda item: rank[item.nodeid.split("::")[0]])  # stable within a rank


def module_rank(item: pytest.Item) -> int:
    """0 for a test with a Celery worker or a server, 1 for a browser test, 2 for the rest."""
    if item.get_closest_marker("worker"):
        return 0
    return 1 if item.get_closest_marker("browser") else 2


def runs_subprocess(node: pytest.Item) -> bool:
    return any(node.get_closest_marker(name) for name in SUBPROCESS_MARKERS)


def as_zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


@dataclass(frozen=True)
class Clock:
    """The test's now. It ticks with real time from where it starts unless moved with
    tick=False; `move_to` and `shift` jump it. Anything in this process sees it (Python's
    datetime and time, Django's timezone.now); PostgreSQL's now() does not."""

    traveller: time_machine.Traveller

    def now(self, zone: str | ZoneInfo = "UTC") -> datetime:
        return timezone.now().astimezone(as_zone(zone))

    def today(self, zone: str | ZoneInfo | None = None) -> date:
        """Today in `zone`; by default the clinic's default zone, as timezone.localdate()."""
        return self.now(zone or settings.TIME_ZONE).date()

    def day_at(self, days_ahead: int, at: time, zone: str | ZoneInfo) -> datetime:
        """`at` o'clock in `zone` on the day `days_ahead` days after today there."""
        day = self.today(zone) + timedelta(days=days_ahead)
        return datetime.combine(day, at, tzinfo=as_zone(zone))

    def move_to(self, when: datetime, *, tick: bool | None = None) -> None:
        self.traveller.move_to(in_default_zone(when), tick=tick)

    def shift(self, delta: timedelta = timedelta(0), **parts: float) -> None:
        """Move forward (or back) by `delta` plus timedelta(**parts): shift(hours=48)."""
        self.traveller.shift(delta + timedelta(**parts))


def in_default_zone(when: datetime) -> datetime:
    """`when` in settings.TIME_ZONE: time-machine sets the process's TZ to the zone of the
    instant it travels to, and Django has set it to TIME_ZONE; naive local time stays so."""
    if when.tzinfo is None:
        raise ValueError(f"the clock moves to aware datetimes only, not {when!r}")
    return when.astimezone(ZoneInfo(settings.TIME_ZONE))


@pytest.fixture
def clock_start(request: pytest.FixtureRequest) -> datetime | None:
    """Where `clock` starts: a late hour for a date_sensitive test's variant, else
    --clock-at, else None for the real now."""
    starts = request.config.stash[clock_starts_key]
    param = getattr(request, "param", None)
    return starts[param] if param else request.config.stash[clock_at_key]


@pytest.fixture
def clock(request: pytest.FixtureRequest, clock_start: datetime | None) -> Iterator[Clock]:
    if runs_subprocess(request.node):
        pytest.fail("a test with a worker or a browser cannot share the clock with its child")
    start = clock_start or timezone.now()
    with time_machine.travel(in_default_zone(start), tick=True) as traveller:
        yield Clock(traveller)


@pytest.fixture(autouse=True)
def _clock_before_other_fixtures(
    request: pytest.FixtureRequest, clock_start: datetime | None
) -> None:
    """Start `clock` before the fixtures that build data from now, for a test that asks for
    it or is marked date_sensitive, and for every in-process test under --clock-at."""
    if runs_subprocess(request.node):
        return
    dated = request.node.get_closest_marker("date_sensitive") or "clock" in request.fixturenames
    if dated or clock_start is not None:
        request.getfixturevalue("clock")


@pytest.fixture
def make_user(db):
    """A user in `role` with TEST_PASSWORD. Staff get a confirmed authenticator app (the
    second factor they must have; `second_factor=False` leaves it to be set up at first
    sign-in); patients get one only with `second_factor=True`."""

    def make(username: str, role: Role, *, second_factor: bool | None = None, **fields):
        user = user_upsert(username=username, password=TEST_PASSWORD, role=role, **fields)
        if second_factor is None:
            second_factor = role in STAFF_ROLES or user.is_superuser
        if second_factor:
            give_authenticator(user)
        return user

    return make


@pytest.fixture
def client() -> SignedInClient:
    """Django's test client, plus `client.sign_in(user)`: signed in and past the second step
    (plain `force_login` leaves a staff session that still owes it)."""
    return SignedInClient()


@pytest.fixture
def front_desk_user(make_user):
    return make_user("desk1", Role.FRONT_DESK, first_name="Dana")


@pytest.fixture
def clinician_user(make_user):
    return make_user("doc1", Role.CLINICIAN, first_name="Chris")


@pytest.fixture
def manager_user(make_user):
    return make_user("boss1", Role.MANAGER, first_name="Morgan")


@pytest.fixture
def patient_user(make_user):
    from patients.tests.factories import PatientFactory

    user = make_user("pat1", Role.PATIENT, first_name="Pat")
    PatientFactory(user=user)
    return user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    def sign_in(user):
        api_client.force_authenticate(user)
        return api_client

    return sign_in


@pytest.fixture
def own_patient(patient_user):
    """The patient record of `patient_user`."""
    return patient_user.patient


@pytest.fixture
def other_patient(db):
    from patients.tests.factories import PatientFactory

    return PatientFactory(legal_first_name="Other", legal_last_name="Person")


# ---------------------------------------------------------------------------------------------
# Reference data. The data migrations load the procedure catalog and its rule tables and give
# the role groups their permissions; a transactional test ends with a flush that empties every
# table, and with --reuse-db the next run starts from that empty database. The flush's
# post_migrate signal brings the groups back, but the users app's handler runs before the apps
# listed after it have their permissions again, so most are missing. The single-row policies
# are created on first use. The rest is put back, by the migrations' own code, before a test.


def catalog_is_missing() -> bool:
    from patients.models import DrugName
    from procedures.models import (
        AnticoagulantRule,
        ProcedureType,
        SafetyRule,
        SafetyThreshold,
        Steroid,
    )

    tables = [ProcedureType, AnticoagulantRule, SafetyThreshold, Steroid, DrugName, SafetyRule]
    return not all(model.objects.exists() for model in tables)


def restore_reference_data() -> None:
    """Load the catalog, the payers and their rules again if a flush has emptied them (the
    role groups get their permissions back from post_migrate, see clinic/users/apps.py)."""
    from django.apps import apps

    from patients.models import Payer
    from patients.payers import SEED_PAYERS
    from procedures.catalog import (
        add_missing_safety_rules,
        load_drug_vocabulary,
        load_reference_data,
        load_spanish_catalog,
    )
    from procedures.consent import add_consent_risks
    from procedures.models import PayerRule
    from procedures.payer_rules import load_private_payer_rules

    # One transaction: the loaders' hundreds of small ones would each wait for a commit.
    with transaction.atomic():
        if catalog_is_missing():
            load_reference_data(apps)
            load_drug_vocabulary(apps)
            add_missing_safety_rules(apps)
            add_consent_risks(apps)
            load_spanish_catalog(apps)
        if not Payer.objects.exists():
            for name, kind, aliases in SEED_PAYERS:
                Payer.objects.create(name=name, kind=kind, aliases=list(aliases))
        if not PayerRule.objects.exists():  # the private payers' rows of frequency_rules.csv
            load_private_payer_rules(apps)


def is_transactional(node: pytest.Item) -> bool:
    """Whether pytest-django runs this test as a TransactionTestCase, which flushes."""
    marker = node.get_closest_marker("django_db")
    marked = marker is not None and any(
        marker.kwargs.get(flag) for flag in ("transaction", "reset_sequences")
    )
    fixtures = getattr(node, "fixturenames", ())
    return marked or "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Put the reference data back as soon as a transactional test's flush has emptied it. In
    one process pytest-django runs the transactional tests last, but a pytest-xdist worker
    takes whole modules in any order, so the next test may be one that expects the catalog."""
    result = yield
    # After the last test the session's teardown has already dropped the test database.
    if nextitem is not None and is_transactional(item):
        with item.config.stash[blocking_manager_key].unblock():
            restore_reference_data()
    return result


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts and ends in the default language: one that activates Spanish and
    does not put it back would leave it for whatever the xdist worker runs next."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with its reference data even when reused after a flush."""
    with django_db_blocker.unblock():
        restore_reference_data()


@pytest.fixture
def migrated_dump(transactional_db, tmp_path: Path) -> Path:
    """The test database as a transactional test starts with it (migrated, with its reference
    data) in a pg_dump file: restoring it into a new database takes seconds, migrating one
    takes a minute of CPU."""
    path = tmp_path / "migrated.dump"
    dump_test_database(path)
    return path


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    """A transactional test starts like the others, with the reference data an earlier
    transactional test's flush removed."""
    if is_transactional(request.node):
        request.getfixturevalue("transactional_db")
        restore_reference_data()
