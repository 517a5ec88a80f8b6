from importlib import import_module

from django.apps import AppConfig

# The modules that register reports, imported once when Django starts: add a module here and
# its reports appear on /reports/ and under /api/v1/reports/.
REPORT_MODULES = [
    "reports.operations",
    "reports.outcomes",
]


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and outcomes registry"

    def ready(self) -> None:
        for module in REPORT_MODULES:
            import_module(module)
