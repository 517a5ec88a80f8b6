from clinic.users.roles import Role
from clinic.users.services import user_upsert

from . import DemoContext


def seed_staff(ctx: DemoContext) -> None:
    ctx.made["admin"] = user_upsert(
        username="admin",
        password=ctx.password,
        role=Role.MANAGER,
        is_superuser=True,
        first_name="Avery",
        last_name="Collins",
        email="admin@example.com",
    )
    ctx.made["frontdesk"] = user_upsert(
        username="frontdesk",
        password=ctx.password,
        role=Role.FRONT_DESK,
        first_name="Jordan",
        last_name="Price",
        email="frontdesk@example.com",
    )
    ctx.made["physician"] = user_upsert(
        username="physician",
        password=ctx.password,
        role=Role.CLINICIAN,
        first_name="Maya",
        last_name="Okafor",
        email="physician@example.com",
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
