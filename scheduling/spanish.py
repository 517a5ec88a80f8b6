"""The seeded visit types' names in Spanish: the clinic's own translation (not checked by a
certified translator); managers confirm or change them in the admin ("name in Spanish")."""

APPOINTMENT_TYPE_NAMES_ES: dict[str, str] = {
    "new_consult": "Primera consulta",
    "follow_up": "Consulta de seguimiento",
    "procedure": "Procedimiento",
    "pump_refill": "Recarga de la bomba",
    "telehealth": "Consulta de telemedicina",
}


def fill_spanish_names(apps, schema_editor=None) -> None:
    """RunPython: the Spanish name of each seeded visit type that has none yet."""
    model = apps.get_model("scheduling", "AppointmentType")
    for kind in model.objects.filter(code__in=APPOINTMENT_TYPE_NAMES_ES, name_es=""):
        kind.name_es = APPOINTMENT_TYPE_NAMES_ES[kind.code]
        kind.save(update_fields=["name_es"])
