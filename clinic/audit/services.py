from .models import ChartAccess


def chart_access_record(*, user, patient, via: str) -> ChartAccess:
    """Every look at a patient's chart or history is written down: who, whose, when, how.
    One INSERT, in the caller's transaction if it has one."""
    return ChartAccess.objects.create(user=user, patient=patient, via=via)
