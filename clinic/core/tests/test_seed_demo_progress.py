"""seed_demo says on stderr which step it is on, of how many, and how long each took."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from clinic.core.demo import DEMO_SEEDERS

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_its_progress_step_by_step():
    out, err = StringIO(), StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "2", stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    total = len(DEMO_SEEDERS)
    assert [line.split(" ")[0] for line in lines] == [f"[{n}/{total}]" for n in range(1, total + 1)]
    assert all(re.fullmatch(r"\[\d+/\d+\] [\w.]+ \.\.\. done in \d+\.\d s", line) for line in lines)
    assert lines[0].startswith(f"[1/{total}] {DEMO_SEEDERS[0]} ...")
    assert "Demo clinic ready" in out.getvalue(), "stdout keeps the summary alone"
