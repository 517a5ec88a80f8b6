from django.contrib.auth.models import Group
from django.db.models import Count

from clinic.users.roles import Role
from patients.models import Patient, PatientStatus
from sites.models import Location, Provider


def clinic_overview() -> dict:
    """Counts for the manager's home page."""
    users_per_role = dict(
        Group.objects.filter(name__in=Role.labels)
        .annotate(members=Count("user"))
        .values_list("name", "members")
    )
    return {
        "locations": Location.objects.filter(is_active=True).count(),
        "providers": Provider.objects.filter(is_active=True).count(),
        "active_patients": Patient.objects.filter(status=PatientStatus.ACTIVE).count(),
        "users_per_role": [(role.label, users_per_role.get(role.label, 0)) for role in Role],
    }
