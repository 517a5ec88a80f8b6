"""The apps stand in floors (.importlinter, docs/decisions/0018-floors.md). The contract
itself runs in the test command; these tests show it is real: the tree keeps it, and an
import placed upward, even inside a function, breaks it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGES = [
    "clinic",
    "sites",
    "patients",
    "notifications",
    "procedures",
    "scheduling",
    "history",
    "portal",
    "links",
    "overview",
    "reports",
    "interop",
]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The project's Python packages and contract, copied so a test can break them."""
    ignore = shutil.ignore_patterns("__pycache__", "templates", "static", "node_modules")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_tree_keeps_every_contract(tree_copy):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_floors(tree_copy):
    module = tree_copy / "patients" / "selectors.py"
    module.write_text(
        module.read_text()
        + "\n\ndef _sneaky():\n    from scheduling.models import Appointment\n\n"
        + "    return Appointment\n"
    )
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "patients.selectors -> scheduling.models" in result.stdout


def test_the_outbox_importing_a_domain_app_breaks_the_floors(tree_copy):
    module = tree_copy / "notifications" / "kinds.py"
    module.write_text(module.read_text() + "\nfrom procedures.models import ProcedureRecord\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "notifications.kinds -> procedures.models" in result.stdout
