"""The catalog's CPT codes as a structured list: the data migration keeps every code of the
old free text, the shipped list agrees with procedures.csv, and the admin and the API edit
and show them."""

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from procedures.catalog import read_csv
from procedures.cpt import catalog_cpt_codes, parse_cpt_text
from procedures.models import ProcedureCode, ProcedureType

pytestmark = pytest.mark.django_db

STRUCTURED = ("procedures", "0016_structured_cpt_codes")
FIVE_CHARACTER_CODE = re.compile(r"\b\d{4}[0-9FT]\b")
EDITED_TEXT = "64483 with KX modifier + 64484 U"


def old_codes(text: str) -> set[str]:
    return set(FIVE_CHARACTER_CODE.findall(text))


def shipped_rows() -> list[dict]:
    return read_csv("procedures.csv")


def _migrate(targets) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _set_old_text(code: str, text: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procedures_proceduretype SET cpt_codes = %s WHERE code = %s", [text, code]
        )


def test_the_migration_keeps_every_code_of_every_catalog_row():
    graph = MigrationExecutor(connection).loader.graph
    leaves = graph.leaf_nodes()
    (before,) = [
        parent for parent in graph.node_map[STRUCTURED].parents if parent[0] == "procedures"
    ]
    _migrate([before.key])
    texts = {row["code"]: row["cpt"] for row in shipped_rows()}
    texts["tfesi_ls"] = EDITED_TEXT  # a manager's edit: read from the text itself
    for code, text in texts.items():
        _set_old_text(code, text)

    _migrate(leaves)

    for code, text in texts.items():
        kept = set(
            ProcedureCode.objects.filter(procedure_type__code=code).values_list("code", flat=True)
        )
        assert old_codes(text) <= kept, code
    assert (
        ProcedureType.objects.get(code="itp_implant").procedure_codes.filter(code="62361").exists()
    ), "a range is spelled out"
    edited = {c.code: c for c in ProcedureCode.objects.filter(procedure_type__code="tfesi_ls")}
    assert edited["64483"].modifiers == ["KX"] and edited["64483"].certain
    assert edited["64484"].add_on and not edited["64484"].certain
    assert EDITED_TEXT in edited["64484"].note


@pytest.mark.parametrize("row", shipped_rows(), ids=lambda row: row["code"])
def test_reading_the_old_text_loses_no_code(row):
    assert old_codes(row["cpt"]) <= {code.code for code in parse_cpt_text(row["cpt"])}


def test_the_shipped_list_has_every_code_of_procedures_csv_and_no_other():
    for row in shipped_rows():
        shipped = {code.code for code in catalog_cpt_codes()[row["code"]]}
        parsed = {code.code for code in parse_cpt_text(row["cpt"])}
        assert shipped == parsed, row["code"]


def test_reading_flags_add_ons_modifiers_and_uncertain_codes():
    (block,) = parse_cpt_text("64483 with KX modifier")
    assert block.modifiers == ["KX"]
    celiac = {code.code: code for code in parse_cpt_text("64530 (neurolysis 64680 U)")}
    assert celiac["64530"].certain and not celiac["64680"].certain
    levels = {code.code: code.add_on for code in parse_cpt_text("64635 + 64636")}
    assert levels == {"64635": False, "64636": True}


def test_the_catalog_loads_structured_codes_with_a_primary_code():
    tfesi = ProcedureType.objects.get(code="tfesi_ls")
    codes = list(tfesi.procedure_codes.values_list("code", "add_on"))
    assert codes == [("64483", False), ("64484", True)]
    assert tfesi.primary_cpt is not None and tfesi.primary_cpt.code == "64483"
    assert ProcedureType.objects.get(code="snrb_ls").procedure_codes.get().modifiers == ["KX"]
    neurolysis = ProcedureCode.objects.get(procedure_type__code="celiac_plexus_block", code="64680")
    assert not neurolysis.certain


def test_the_api_lists_the_codes(api_as, front_desk_user):
    body = api_as(front_desk_user).get("/api/v1/procedure-types/rfa_ls/").json()
    assert body["cpt_codes"] == [
        {
            "code": "64635",
            "description": "Radiofrequency ablation, lumbar or sacral facet, first joint",
            "add_on": False,
            "modifiers": [],
            "certain": True,
        },
        {
            "code": "64636",
            "description": "Radiofrequency ablation, lumbar or sacral facet, each additional joint",
            "add_on": True,
            "modifiers": [],
            "certain": True,
        },
    ]


@pytest.fixture
def admin_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.sign_in(manager_user)
    return client


def inline_form(kind: ProcedureType, new_code: str, modifiers: str) -> dict:
    """The change form as the admin posts it: the catalog row, its codes, one code added."""
    page = {
        field: value
        for field, value in {
            "code": kind.code,
            "name": kind.name,
            "name_es": kind.name_es,
            "family": kind.family,
            "region": kind.region,
            "purpose": kind.purpose,
            "is_active": "on",
            "imaging": kind.imaging,
            "room_kind": kind.room_kind,
            "steroid": kind.steroid,
            "contrast": kind.contrast,
            "sedation": kind.sedation,
            "fasting_hours": kind.fasting_hours,
            "bleeding_risk": kind.bleeding_risk,
            "default_minutes": kind.default_minutes,
            "minutes_per_extra_level": kind.minutes_per_extra_level,
            "turnover_minutes": kind.turnover_minutes,
            "follow_up_plan": "{}",
        }.items()
    }
    codes = list(kind.procedure_codes.all())
    prefix = "procedure_codes"
    page |= {
        f"{prefix}-TOTAL_FORMS": str(len(codes) + 1),
        f"{prefix}-INITIAL_FORMS": str(len(codes)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, code in enumerate(codes):
        page |= {
            f"{prefix}-{index}-id": str(code.id),
            f"{prefix}-{index}-procedure_type": str(kind.id),
            f"{prefix}-{index}-position": str(code.position),
            f"{prefix}-{index}-code": code.code,
            f"{prefix}-{index}-description": code.description,
            f"{prefix}-{index}-modifiers": ",".join(code.modifiers),
            f"{prefix}-{index}-certain": "on",
        }
    new = len(codes)
    return page | {
        f"{prefix}-{new}-procedure_type": str(kind.id),
        f"{prefix}-{new}-position": str(new),
        f"{prefix}-{new}-code": new_code,
        f"{prefix}-{new}-description": "Added by a coder",
        f"{prefix}-{new}-modifiers": modifiers,
        f"{prefix}-{new}-certain": "on",
    }


def test_the_admin_adds_a_code_with_modifiers(admin_client):
    kind = ProcedureType.objects.get(code="si_injection")
    url = f"/admin/procedures/proceduretype/{kind.pk}/change/"
    assert "27096" in admin_client.get(url).content.decode()

    response = admin_client.post(url, inline_form(kind, "64451", "RT,LT"))

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    added = kind.procedure_codes.get(code="64451")
    assert added.modifiers == ["RT", "LT"] and not added.add_on


def test_the_admin_refuses_a_malformed_code_and_writes_nothing(admin_client):
    kind = ProcedureType.objects.get(code="si_injection")
    url = f"/admin/procedures/proceduretype/{kind.pk}/change/"

    response = admin_client.post(url, inline_form(kind, "2709", "r"))

    assert response.status_code == 200
    (codes,) = response.context["inline_admin_formsets"]
    errors = codes.formset.errors[-1]
    assert "A CPT code is 5 characters" in str(errors["code"])
    assert "Item 1 in the array did not validate" in str(errors["modifiers"])
    assert list(kind.procedure_codes.values_list("code", flat=True)) == ["27096"]
