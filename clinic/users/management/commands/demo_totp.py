from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Print the current code of a demo login's authenticator app (the second step of "
        "signing in), for trying the demo without a phone."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a live clinic)."
        )

    def handle(self, *args, username: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "demo_totp prints sign-in codes, so it only runs with DEBUG on; "
                "pass --force to run it anyway."
            )
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no authenticator app set up.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
