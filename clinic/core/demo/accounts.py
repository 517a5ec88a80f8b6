from clinic.users.roles import Role
from clinic.users.services import user_upsert

from . import DemoContext

# username, role, first name, last name, superuser
STAFF = [
    ("admin", Role.MANAGER, "Avery", "Collins", True),
    ("frontdesk", Role.FRONT_DESK, "Jordan", "Price", False),
    ("physician", Role.CLINICIAN, "Maya", "Okafor", False),
]


def seed_staff(ctx: DemoContext) -> None:
    for username, role, first_name, last_name, is_superuser in STAFF:
        ctx.made[username] = user_upsert(
            username=username,
            password=ctx.password,
            role=role,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@example.com",
            is_superuser=is_superuser,
        )


def seed_patient_account(ctx: DemoContext) -> None:
    """The `patient` login belongs to the first demo patient."""
    patient = ctx.made["patients"][0]
    user = user_upsert(
        username="patient",
        password=ctx.password,
        role=Role.PATIENT,
        first_name=patient.legal_first_name,
        last_name=patient.legal_last_name,
        email=patient.email,
    )
    if patient.user_id != user.id:
        patient.user = user
        patient.save(update_fields=["user", "updated_at"])
