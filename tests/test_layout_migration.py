"""The floors restructuring loses no row: a database made and seeded by the code before it
(commit BEFORE) is migrated by the code of this tree, and every table keeps its rows.

Location, Room, Provider and OpeningHours moved from `scheduling` to `sites`, ChartAccess
from `history` to `audit`, all keeping their tables; their migrations change only Django's
state and relabel the content type rows. The old tree is checked out with `git worktree`
and run with this interpreter (the pinned packages are the same) against a throwaway
database, which is dropped at the end. The Django test database is not used.
"""

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from tests.support import ROOT, child_env

BEFORE = "7ca0c6e"  # main just before the floors restructuring
DEMO_PATIENTS = "6"
MOVED = {
    ("scheduling", "location"): "sites",
    ("scheduling", "room"): "sites",
    ("scheduling", "provider"): "sites",
    ("scheduling", "openinghours"): "sites",
    ("history", "chartaccess"): "audit",
}
# The floors move ends at these migrations; later issues' migrations change rows on purpose
# (new rule values, repaired orders), so the check migrates exactly this far. Each target
# brings the move's other half with it (scheduling 0008 needs sites 0001 and the others,
# history 0002 needs audit 0001): post_migrate must never see a model in both apps, or it
# would give the old app a fresh content type.
LAYOUT_TARGETS = [
    ("scheduling", "0008_sites_moved_out"),
    ("history", "0002_chart_access_to_audit"),
]
# post_migrate gives the models of this tree (later ones included) their content types and
# permissions, and the role groups theirs: these tables may only grow.
GROW_WITH_NEWER_MODELS = {"auth_permission", "django_content_type", "auth_group_permissions"}
# Tables a state-only move must never create: the moved models keep their old tables.
FORBIDDEN_TABLE_PREFIXES = ("sites_", "audit_", "procedures_proceduretype_providers")
MARK = "layout migration check"

# Run in the OLD tree after seed_demo: the demo has no opening hours, chart accesses or admin
# log entries, so add some, the log entries pointing at moved models by their content types.
OLD_EXTRA_ROWS = f"""
from datetime import time
import django
django.setup()
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from history.models import ChartAccess
from patients.models import Patient
from scheduling.models import Location, OpeningHours, Provider, Room

OpeningHours.objects.create(
    location=Location.objects.order_by("pk").first(), weekday=6, opens=time(9), closes=time(12)
)
users = get_user_model().objects
physician, admin = users.get(username="physician"), users.get(username="admin")
for patient in Patient.objects.order_by("pk")[:3]:
    for via in ("history", "api", "chart"):
        ChartAccess.objects.create(user=physician, patient=patient, via=via)
for model in (Location, Room, Provider, OpeningHours, ChartAccess):
    obj = model.objects.order_by("pk").first()
    LogEntry.objects.create(
        user=admin,
        content_type=ContentType.objects.get_for_model(model),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=CHANGE,
        change_message={MARK!r},
    )
"""

# Run in THIS tree after its migrate: what the new code's ORM sees.
NEW_PROBE = f"""
import json
import django
django.setup()
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from clinic.audit.models import ChartAccess
from clinic.users.roles import Role
from procedures.models import ProcedureType
from sites.models import Location, OpeningHours, Provider, Room

models = (Location, Room, Provider, OpeningHours, ChartAccess)
manager = Group.objects.get(name=Role.MANAGER.label)
print(json.dumps({{
    "counts": {{m._meta.label: m.objects.count() for m in models}},
    "content_type_ids": {{
        m._meta.label: ContentType.objects.get_for_model(m).pk for m in models
    }},
    "provider_locations": Provider.locations.through.objects.count(),
    "provider_procedure_types": ProcedureType.providers.through.objects.count(),
    "procedure_types_via_providers": sum(
        p.procedure_types.count() for p in Provider.objects.all()
    ),
    "manager_location_permissions": sorted(
        manager.permissions.filter(
            content_type__app_label="sites", content_type__model="location"
        ).values_list("codename", flat=True)
    ),
    "logged_objects": sorted(
        entry.get_edited_object()._meta.label
        for entry in LogEntry.objects.filter(change_message={MARK!r})
    ),
}}))
"""


@dataclass
class Snapshot:
    counts: dict[str, int]
    fingerprints: dict[str, str]
    content_types: dict[tuple[str, str], int]
    group_permissions: set[tuple[str, int]]
    permissions: set[tuple[int, int, str]]
    migrations: set[tuple[str, str]]


@dataclass
class Migrated:
    before: Snapshot
    after: Snapshot
    probe: dict


def server_url(database: str) -> str:
    """The machine's PostgreSQL (as in DATABASE_URL) with another database name."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return urllib.parse.urlsplit(base)._replace(path=f"/{database}").geturl()


def run_admin(statement: sql.Composable) -> None:
    connection = psycopg2.connect(server_url("postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def run(args: list[str], cwd: Path, env: dict, timeout: float = 300) -> str:
    """Run a command; on failure show its whole output in the test report."""
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(
            f"`{shlex.join(args)[:160]}` in {cwd} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


def has_commit(commit: str) -> bool:
    if shutil.which("git") is None:
        return False
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True
    )
    return found.returncode == 0


def clinic_env(database: str) -> dict:
    """Test settings on the throwaway database. Celery gets an in-memory broker, so the
    messages the demo finds due are not queued on the shared Redis for a real worker."""
    env = child_env(
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        DATABASE_URL=server_url(database),
        CELERY_BROKER_URL="memory://",
        CELERY_RESULT_BACKEND="cache+memory://",
    )
    env.pop("PYTHONPATH", None)  # the old tree must import its own code, not this tree's
    return env


def snapshot(database: str) -> Snapshot:
    """Row count and content fingerprint of every table in `public`, plus the rows that
    say who is allowed what."""
    connection = psycopg2.connect(server_url(database))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = sorted(name for (name,) in cursor.fetchall())
            counts, fingerprints = {}, {}
            for table in tables:
                cursor.execute(
                    sql.SQL(
                        "SELECT count(*), md5(coalesce(string_agg(md5(t::text), ''"
                        " ORDER BY md5(t::text)), '')) FROM {} t"
                    ).format(sql.Identifier(table))
                )
                counts[table], fingerprints[table] = cursor.fetchone()
            cursor.execute("SELECT app_label, model, id FROM django_content_type")
            content_types = {(app, model): pk for app, model, pk in cursor.fetchall()}
            cursor.execute(
                "SELECT g.name, gp.permission_id FROM auth_group_permissions gp"
                " JOIN auth_group g ON g.id = gp.group_id"
            )
            group_permissions = set(cursor.fetchall())
            cursor.execute("SELECT id, content_type_id, codename FROM auth_permission")
            permissions = set(cursor.fetchall())
            cursor.execute("SELECT app, name FROM django_migrations")
            migrations = set(cursor.fetchall())
    finally:
        connection.close()
    return Snapshot(counts, fingerprints, content_types, group_permissions, permissions, migrations)


def build_old_clinic(worktree: Path, env: dict) -> None:
    python = sys.executable
    run([python, "manage.py", "migrate", "--no-input"], worktree, env)
    run([python, "manage.py", "seed_demo", "--force", "--patients", DEMO_PATIENTS], worktree, env)
    run([python, "-c", OLD_EXTRA_ROWS], worktree, env)


@pytest.fixture(scope="module")
def migrated() -> Iterator[Migrated]:
    if not has_commit(BEFORE):
        pytest.skip(f"git history lacks commit {BEFORE} (the code before the floors move)")
    database = f"layout_{secrets.token_hex(4)}"
    parent = Path(tempfile.mkdtemp(prefix="layout-migration-"))
    worktree = parent / "main"
    env = clinic_env(database)
    try:
        run_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        run(["git", "worktree", "add", "--detach", str(worktree), BEFORE], ROOT, env, 120)
        build_old_clinic(worktree, env)
        before = snapshot(database)
        for app, target in LAYOUT_TARGETS:
            run([sys.executable, "manage.py", "migrate", "--no-input", app, target], ROOT, env)
        after = snapshot(database)
        probe = json.loads(run([sys.executable, "-c", NEW_PROBE], ROOT, env).splitlines()[-1])
        yield Migrated(before, after, probe)
    finally:
        if worktree.exists():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=ROOT,
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(parent, ignore_errors=True)
        run_admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def test_every_table_keeps_exactly_its_rows(migrated):
    before, after = migrated.before.counts, migrated.after.counts
    moved_tables = [
        "scheduling_location",
        "scheduling_room",
        "scheduling_provider",
        "scheduling_openinghours",
        "scheduling_provider_locations",
        "scheduling_provider_procedure_types",
        "history_chartaccess",
        "django_admin_log",
    ]
    empty = [table for table in moved_tables if not before[table]]
    assert not empty, f"the old clinic has nothing to move in {empty}"
    missing = sorted(set(before) - set(after))
    assert not missing, f"tables gone after the migration: {missing}"
    changed = {
        table: (count, after[table])
        for table, count in before.items()
        if table != "django_migrations" and table not in GROW_WITH_NEWER_MODELS
        if after[table] != count
    }
    assert not changed, f"row counts changed (before, after): {changed}"
    shrunk = [t for t in GROW_WITH_NEWER_MODELS if after[t] < before[t]]
    assert not shrunk, f"rows lost from {shrunk}"
    assert after["django_migrations"] > before["django_migrations"]


def test_no_table_is_created_for_the_moved_models(migrated):
    created = sorted(set(migrated.after.counts) - set(migrated.before.counts))
    wrong = [table for table in created if table.startswith(FORBIDDEN_TABLE_PREFIXES)]
    assert not wrong, f"state-only moves created tables: {wrong}"


def test_row_contents_are_unchanged(migrated):
    """Beyond counts: the same rows, value for value. Content types are relabelled by
    design (checked below); the migration log grows."""
    skip = {"django_migrations"} | GROW_WITH_NEWER_MODELS  # content types: checked below
    before, after = migrated.before.fingerprints, migrated.after.fingerprints
    changed = sorted(t for t in before if t not in skip and after.get(t) != before[t])
    assert not changed, f"tables whose rows changed: {changed}"


def test_content_types_move_with_their_models_and_keep_their_ids(migrated):
    before, after = migrated.before.content_types, migrated.after.content_types
    for (old_app, model), new_app in MOVED.items():
        assert (old_app, model) not in after, f"{old_app}.{model} still has a content type"
        assert after.get((new_app, model)) == before[(old_app, model)], f"{new_app}.{model}"
    relabelled = {(MOVED.get(key, key[0]), key[1]): pk for key, pk in before.items()}
    lost = sorted(relabelled.items() - after.items())
    assert not lost, f"content types lost or renumbered: {lost}"


def test_migration_log_only_grows(migrated):
    before, after = migrated.before.migrations, migrated.after.migrations
    assert before <= after
    assert {("sites", "0001_initial"), ("audit", "0001_initial")} <= after - before


def test_every_permission_stays_as_it_was(migrated):
    lost = sorted(migrated.before.permissions - migrated.after.permissions)
    assert not lost, f"permissions lost or changed: {lost}"


def test_role_groups_keep_their_permissions(migrated):
    before, after = migrated.before.group_permissions, migrated.after.group_permissions
    assert len(after) >= len(before)
    assert before <= after, f"permissions taken from groups: {sorted(before - after)}"
    assert migrated.probe["manager_location_permissions"] == [
        "add_location",
        "change_location",
        "delete_location",
        "view_location",
    ]


def test_the_new_code_sees_the_old_rows(migrated):
    counts, probe = migrated.before.counts, migrated.probe
    assert probe["counts"] == {
        "sites.Location": counts["scheduling_location"],
        "sites.Room": counts["scheduling_room"],
        "sites.Provider": counts["scheduling_provider"],
        "sites.OpeningHours": counts["scheduling_openinghours"],
        "audit.ChartAccess": counts["history_chartaccess"],
    }
    assert probe["provider_locations"] == counts["scheduling_provider_locations"]
    through = counts["scheduling_provider_procedure_types"]
    assert through > 0
    assert probe["provider_procedure_types"] == through
    assert probe["procedure_types_via_providers"] == through


def test_content_type_references_still_resolve(migrated):
    """Admin log entries written by the old code open the moved objects in the new code."""
    before = migrated.before.content_types
    assert migrated.probe["content_type_ids"] == {
        "sites.Location": before[("scheduling", "location")],
        "sites.Room": before[("scheduling", "room")],
        "sites.Provider": before[("scheduling", "provider")],
        "sites.OpeningHours": before[("scheduling", "openinghours")],
        "audit.ChartAccess": before[("history", "chartaccess")],
    }
    assert migrated.probe["logged_objects"] == sorted(
        [
            "sites.Location",
            "sites.Room",
            "sites.Provider",
            "sites.OpeningHours",
            "audit.ChartAccess",
        ]
    )
