from .models import User


def user_profile(*, user: User) -> dict:
    patient = getattr(user, "patient", None)
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "patient": patient.id if patient else None,
    }
