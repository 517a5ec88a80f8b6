from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Patient portal"

    def ready(self) -> None:
        # Connects the sign-in receiver that keeps the patient's language in the session.
        from . import language  # noqa: F401
