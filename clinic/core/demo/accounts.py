from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.users.models import User
from clinic.users.roles import Role
from clinic.users.services import user_upsert
from clinic.users.two_factor import AUTHENTICATOR_APP, totp_secret

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
        demo_authenticator(ctx.made[username])


def demo_authenticator(user: User) -> TOTPDevice:
    """Staff sign in with a second factor: each demo staff login gets an authenticator app
    whose secret is made here (kept across runs, so an app set up once keeps working)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_APP, confirmed=True)


def staff_second_factors() -> list[tuple[str, str, str]]:
    """(username, secret, otpauth URI) of each demo staff login, to print for a newcomer."""
    rows = []
    for username, *_ in STAFF:
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is not None:
            rows.append((username, totp_secret(device), device.config_url))
    return rows


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
