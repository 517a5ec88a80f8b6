from django.db.models import Q, QuerySet

from .models import Patient


def patient_search(*, query: str = "") -> QuerySet[Patient]:
    """Staff patient lookup by name or MRN. The patients issue adds fuzzy and phone search."""
    patients = Patient.objects.select_related("home_location")
    query = query.strip()
    if query:
        patients = patients.filter(
            Q(mrn=query)
            | Q(legal_last_name__istartswith=query)
            | Q(legal_first_name__istartswith=query)
            | Q(preferred_name__istartswith=query)
        )
    return patients.order_by("legal_last_name", "legal_first_name", "mrn")
