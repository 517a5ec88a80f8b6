"""Reach PostgreSQL and Redis before the clinic starts; say in one line what is wrong.

    python scripts/check_services.py database URL   # creates the database if it is missing
    python scripts/check_services.py redis URL

Exit status 0 when reachable, 1 with one line on stderr otherwise. Standard library plus
psycopg2 and redis, which the virtualenv already has.
"""

import sys
from urllib.parse import urlsplit, urlunsplit


def fail(message: str) -> None:
    sys.stderr.write(f"setup: {message}\n")
    raise SystemExit(1)


def first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def check_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        fail(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme}://")
    name = parts.path.lstrip("/") or "clinic"
    try:
        psycopg2.connect(url, connect_timeout=5).close()
        return
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            where = f"{parts.hostname}:{parts.port or 5432}"
            fail(f"cannot reach PostgreSQL at {where}: {first_line(exc)}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        admin = psycopg2.connect(admin_url, connect_timeout=5)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.close()
    except psycopg2.Error as exc:
        fail(f"cannot create database {name!r}: {first_line(exc)}")
    print(f"created database {name}")


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        parts = urlsplit(url)
        fail(f"cannot reach Redis at {parts.hostname}:{parts.port or 6379}: {first_line(exc)}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("database", "redis"):
        fail("usage: check_services.py database|redis URL")
    {"database": check_database, "redis": check_redis}[sys.argv[1]](sys.argv[2])
