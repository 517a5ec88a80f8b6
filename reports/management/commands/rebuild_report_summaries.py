"""Sum the report summary tables again from scratch, a month at a time, saying how far it got:
after a restore, a change of a location's time zone, or a change to the reports' SQL."""

from typing import Any

from django.core.management.base import BaseCommand

from reports.summaries import summaries_refresh


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        def say(text: str) -> None:
            self.stdout.write(text)
            self.stdout.flush()

        # Waits for a refresh that is running, then holds the lock until it is done.
        refreshed = summaries_refresh(full=True, wait=True, progress=say)
        self.stdout.write(str(refreshed))
