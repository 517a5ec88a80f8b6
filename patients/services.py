from datetime import date

from django.db import connection, transaction

from clinic.core.phones import normalize_phone

from .models import Patient

MRN_SEQUENCE = "patients_mrn_seq"


def next_mrn() -> str:
    """Medical record numbers come from a PostgreSQL sequence: unique, never reused."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [MRN_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"{value:08d}"


@transaction.atomic
def patient_create(
    *,
    legal_first_name: str,
    legal_last_name: str,
    date_of_birth: date,
    sex: str = "unknown",
    preferred_name: str = "",
    phone: str = "",
    email: str = "",
    home_location=None,
    user=None,
) -> Patient:
    patient = Patient(
        mrn=next_mrn(),
        legal_first_name=legal_first_name.strip(),
        legal_last_name=legal_last_name.strip(),
        preferred_name=preferred_name.strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        phone=normalize_phone(phone),
        email=email.strip().lower(),
        home_location=home_location,
        user=user,
    )
    patient.full_clean()
    patient.save()
    return patient
