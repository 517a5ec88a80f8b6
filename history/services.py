from django.db import transaction

from .models import ChartAccess


@transaction.atomic
def chart_access_record(*, user, patient, via: str) -> ChartAccess:
    """Every look at a patient's history is written down: who, whose, when, how."""
    return ChartAccess.objects.create(user=user, patient=patient, via=via)
