from django.apps import AppConfig


class InteropConfig(AppConfig):
    """Health IT standards: the FHIR R4 API at /fhir/. Named `interop`, not `fhir`, because the
    fhir.resources library installs the top-level package `fhir`."""

    name = "interop"
    verbose_name = "FHIR R4 API"
