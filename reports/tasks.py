from celery import shared_task

from .summaries import summaries_refresh


@shared_task(ignore_result=True)
def refresh_report_summaries() -> str:
    """Beat runs this every few minutes: the summary tables take in what changed since the
    last run (decision 0038). Idempotent, no arguments; a run that finds another still
    going returns at once."""
    return str(summaries_refresh())
