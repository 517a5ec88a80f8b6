from celery import shared_task

from .services import offers_expire


@shared_task(ignore_result=True)
def expire_waitlist_offers() -> int:
    """Beat runs this every few minutes: expired offers pass to the next waiting patient."""
    return offers_expire()
