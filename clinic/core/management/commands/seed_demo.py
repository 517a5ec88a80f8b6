import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

from clinic.core.demo import DEMO_ACCOUNTS, DEMO_SEEDERS, DemoContext
from clinic.core.demo.accounts import staff_second_factors

DEFAULT_PASSWORD = "clinic-demo-2026"  # noqa: S105  (demo logins only; DEBUG-gated)


class Command(BaseCommand):
    help = "Load the demo clinic (locations, providers, patients, demo logins). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password for every demo login (default: {DEFAULT_PASSWORD}).",
        )
        parser.add_argument("--patients", type=int, default=100, help="How many demo patients.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a live clinic)."
        )

    def handle(self, *args, password, patients, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates logins with a known password, so it only runs with DEBUG on; "
                "pass --force to run it anyway."
            )
        if len(password) < 8:
            raise CommandError("--password must be at least 8 characters.")
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        ctx = DemoContext(password=password, patient_count=patients)
        with transaction.atomic():
            for step, seeder in enumerate(DEMO_SEEDERS, start=1):
                started = time.monotonic()
                self.stderr.write(f"[{step}/{len(DEMO_SEEDERS)}] {seeder} ...", ending="")
                self.stderr.flush()
                import_string(seeder)(ctx)
                self.stderr.write(f" done in {time.monotonic() - started:.1f} s")
        summary = ", ".join(f"{count} {name}" for name, count in ctx.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo clinic ready: {summary}."))
        for username, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<10} ({role})  password: {password}")
        self.stdout.write(
            "Staff sign in with a second step: a code from an authenticator app set up with "
            "the key (or URI) below, or the current code from `.venv/bin/python manage.py "
            "demo_totp <username>`."
        )
        for username, secret, uri in staff_second_factors():
            self.stdout.write(f"  {username:<10} key: {secret}")
            self.stdout.write(f"  {'':<10} {uri}")
            self.stdout.write(
                f"  {'':<10} code now: .venv/bin/python manage.py demo_totp {username}"
            )
