import pytest

from procedures.models import ProcedureType

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("n", range(4))
def test_probe(n, patient_user):
    assert ProcedureType.objects.exists()
