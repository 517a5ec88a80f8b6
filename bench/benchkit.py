"""What every benchmark here shares: a database of its own on the server of DATABASE_URL
(never the dev database), Django set up on it, timing a call, and the line that says on
what the figures were taken (PostgreSQL version, CPUs, load average, git commit)."""

import contextlib
import gc
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


# --- The database of its own ------------------------------------------------------------


def server_url() -> str:
    """DATABASE_URL without its database name (the server the benchmark runs on)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"DATABASE_URL must be a PostgreSQL URL, got {parts.scheme!r}")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def with_database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(("postgresql", parts.netloc, f"/{name}", "", ""))


def admin_execute(server: str, *statements) -> None:
    """Run statements on the server's maintenance database, outside any transaction."""
    import psycopg2

    connection = psycopg2.connect(with_database(server, "postgres"))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def recreate_database(server: str, name: str) -> None:
    from psycopg2 import sql

    admin_execute(
        server,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)),
    )


def drop_database(server: str, name: str) -> None:
    from psycopg2 import sql

    admin_execute(
        server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def setup_django(server: str, name: str, settings: str = "clinic.settings.local") -> None:
    """Django on the benchmark's own database, its cache keys apart from the dev server's."""
    os.environ["DATABASE_URL"] = with_database(server, name)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    # DEBUG off: no query log, so the timings are those of the work, not of the logging.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("CACHE_KEY_PREFIX", name)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


# --- Timing -------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


class CollectorPauses:
    """The cyclic garbage collector's pauses while it is entered: the longest one, in ms. A
    collection of the oldest generation walks every tracked object, so it shows in a p95."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0

    def _note(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, (time.perf_counter() - self._started) * 1000)

    def __enter__(self) -> "CollectorPauses":
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._note)


def freeze_as_a_worker_starts() -> None:
    """What is loaded so far leaves the collector's care, as in a gunicorn worker
    (gunicorn.conf.py, pre_fork): its full collections then walk what requests make, not
    the benchmark's seeding or Django's modules."""
    gc.collect()
    gc.freeze()


def measure(label: str, call: Callable[[], object], repeat: int) -> dict:
    """One warm-up, the queries of one call (and what it returns, e.g. a body size), then
    `repeat` timed calls: p50 and p95 in milliseconds, and the collector's longest pause."""
    from django.db import connection

    queries: list[str] = []

    def count(execute, sql, params, many, context):
        # Counted as they run: the query log is reset at each request's start.
        queries.append(sql)
        return execute(sql, params, many, context)

    call()  # warm-up: connection, plan cache, template loading
    with connection.execute_wrapper(count):
        size = call()
    timings = []
    with CollectorPauses() as collector:
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "what": label,
        "p50": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "gc": collector.longest,
        "queries": len(queries),
        "size": size,
    }


# --- On what the figures were taken -------------------------------------------------------


def git_commit() -> str:
    """The commit the figures are of (read-only git calls)."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    head = subprocess.run(  # noqa: S603 - a fixed git command, no outside input
        [git, "rev-parse", "--short", "HEAD"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(  # noqa: S603 - a fixed git command, no outside input
        [git, "status", "--porcelain"], cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    changed = " (with uncommitted changes)" if dirty.stdout.strip() else ""
    return (head.stdout.strip() or "unknown") + changed


def machine_line() -> str:
    """PostgreSQL's version, the CPUs, the load average now and the commit."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (
        f"{version.split(' on ')[0]}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end, commit {git_commit()}"
    )


@contextlib.contextmanager
def own_database(
    name: str, *, keep: bool, settings: str = "clinic.settings.local"
) -> Iterator[None]:
    """A fresh database `name` on DATABASE_URL's server, Django set up on it (`settings`) and
    migrated; dropped at the end unless `keep`."""
    server = server_url()
    print(f"Recreating database {name} on {urlsplit(server).hostname} ...", flush=True)
    recreate_database(server, name)
    try:
        setup_django(server, name, settings)
        from django.core.management import call_command

        print("Migrating ...", flush=True)
        call_command("migrate", verbosity=0)
        yield
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if keep:
            print(f"Kept database {name}; drop it with: dropdb {name}")
        else:
            drop_database(server, name)
            print(f"Dropped database {name}.")


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
