from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = "Procedures"

    def ready(self) -> None:
        from . import messages  # models are loaded only once the registry is ready

        messages.register()
