from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from . import messages, procedure_visits  # models load once the registry is ready

        messages.register()
        procedure_visits.register()
