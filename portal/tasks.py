from celery import shared_task

from .accounts import registration_purge


@shared_task(ignore_result=True)
def purge_registrations() -> int:
    """Beat runs this daily: sign-up details not needed any more are deleted."""
    return registration_purge()
