"""Orders and visits agree: the data migration releases a "scheduled" order no visit holds,
the demo never leaves one (checked in SQL), and the portal home and My appointments show
the same upcoming procedure visits."""

import re
from datetime import time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from procedures.models import OrderStatus, ProcedureOrder
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_move
from scheduling.tests.visits import authorized_order, procedure_site, visit
from sites.models import Location

pytestmark = pytest.mark.django_db

DENVER = "America/Denver"
REPAIR = ("scheduling", "0010_orders_follow_their_visits")
BEFORE = ("scheduling", "0009_desk_workspace")

# Every order that says "scheduled" with no visit holding it (booked, checked in, in the
# room, or completed and waiting for its record).
ORPHANS_SQL = """
    SELECT o.id FROM procedures_procedureorder o
    WHERE o.status = 'scheduled' AND NOT EXISTS (
        SELECT 1 FROM scheduling_appointment a
        WHERE a.procedure_order_id = o.id
          AND a.status IN ('booked', 'checked_in', 'in_room', 'completed')
    )
"""


def orphans() -> list:
    with connection.cursor() as cursor:
        cursor.execute(ORPHANS_SQL)
        return [row[0] for row in cursor.fetchall()]


def scheduled_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procedures_procedureorder WHERE status = 'scheduled'")
        return cursor.fetchone()[0]


def _migrate(targets) -> None:
    # The rows this test wrote hold deferred foreign-key checks in its transaction, which
    # an ALTER TABLE refuses to run beside ("pending trigger events"); a real migrate
    # starts from committed rows.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_the_migration_releases_scheduled_orders_no_visit_holds(clock, clinician_user):
    clock.move_to(clock.day_at(1, time(8), DENVER), tick=False)
    site = procedure_site(DENVER)
    day = clock.day_at(3, time(9), DENVER)
    held, cancelled, bare = (PatientFactory() for _ in range(3))
    held_order = authorized_order(held, clinician_user)
    visit(site, held, day, order=held_order)
    cancelled_order = authorized_order(cancelled, clinician_user)
    gone = visit(site, cancelled, day + timedelta(hours=2), order=cancelled_order)
    bare_order = authorized_order(bare, clinician_user)
    waiting = authorized_order(PatientFactory(), clinician_user)
    # The rows as the old code could leave them: a cancelled visit that kept its order
    # scheduled, and an order scheduled with no visit at all.
    appointment_move(
        appointment=gone, to=AppointmentStatus.CANCELLED, by=Actor.system(), reason="x"
    )
    ProcedureOrder.objects.filter(pk__in=[cancelled_order.pk, bare_order.pk]).update(
        status=OrderStatus.SCHEDULED
    )
    assert set(orphans()) == {cancelled_order.pk, bare_order.pk}

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate([BEFORE])
    _migrate(leaves)  # the repair runs, with every later migration

    assert orphans() == []
    statuses = dict(ProcedureOrder.objects.values_list("pk", "status"))
    assert statuses[held_order.pk] == OrderStatus.SCHEDULED
    assert statuses[cancelled_order.pk] == OrderStatus.AUTHORIZED
    assert statuses[bare_order.pk] == OrderStatus.AUTHORIZED
    assert statuses[waiting.pk] == OrderStatus.AUTHORIZED


def test_the_demo_seed_schedules_no_order_without_a_visit():
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "60", "--password", "demo-password-1", stdout=out)
    assert "procedure visits" in out.getvalue()
    assert scheduled_count() > 0, "the demo books some procedures"
    assert orphans() == []
    # Each scheduled order's date is its visit's local day.
    locations = Location._meta.db_table  # the table kept its name when the model moved
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT o.planned_date, (a.start AT TIME ZONE l.time_zone)::date
            FROM procedures_procedureorder o
            JOIN scheduling_appointment a ON a.procedure_order_id = o.id AND a.status = 'booked'
            JOIN {locations} l ON l.id = a.location_id
            WHERE o.status = 'scheduled'
            """  # noqa: S608 - a table name from the model, no input
        )
        rows = cursor.fetchall()
    assert rows and all(planned == local_day for planned, local_day in rows)


def _home_visits(client) -> list[tuple[str, bool]]:
    """The visits under "Your upcoming visits" on the portal home: (name, has preparation)."""
    html = client.get("/portal/").content.decode()
    section = html.split('id="upcoming-visits"')[1].split("</section>")[0]
    return [
        (re.findall(r"<h3>([^<]+)</h3>", item)[0], "How to prepare" in item)
        for item in section.split("<li>")[1:]
    ]


def _home_procedures(client) -> list[str]:
    """The procedure visits (those with their preparation) on the portal home, by name."""
    return [name for name, prepared in _home_visits(client) if prepared]


def _my_upcoming_procedures(client) -> list[str]:
    """The procedure visits under Upcoming on My appointments, by name."""
    html = client.get("/portal/appointments/").content.decode()
    upcoming = html.split('id="upcoming-heading"')[1].split("</section>")[0]
    return [
        re.findall(r"<dt>Visit</dt><dd>([^<]+)</dd>", article)[0]
        for article in upcoming.split("<article")[1:]
        if "How to prepare" in article
    ]


def test_the_portal_home_and_my_appointments_agree(
    clock, client, patient_user, own_patient, clinician_user
):
    clock.move_to(clock.day_at(1, time(8), DENVER), tick=False)
    site = procedure_site(DENVER)
    order = authorized_order(own_patient, clinician_user)
    appointment = visit(site, own_patient, clock.day_at(5, time(9), DENVER), order=order)
    stray = authorized_order(own_patient, clinician_user)  # "scheduled" with no visit
    ProcedureOrder.objects.filter(pk=stray.pk).update(status=OrderStatus.SCHEDULED)
    client.sign_in(patient_user)

    visit(site, own_patient, clock.day_at(4, time(9), DENVER))  # a follow-up: not a procedure
    assert _home_procedures(client) == [order.procedure_type.name]
    assert _my_upcoming_procedures(client) == _home_procedures(client)

    appointment_move(
        appointment=appointment,
        to=AppointmentStatus.CANCELLED,
        by=Actor.portal(patient_user),
        reason="Cancelled by the patient online.",
    )
    assert _home_procedures(client) == []
    assert _my_upcoming_procedures(client) == []
    assert _home_visits(client) == [("Follow-up", False)], "the follow-up stays, unprepared"
