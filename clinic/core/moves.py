"""Moving a model to another app without touching its table: its content type row moves
with it, so permissions granted to roles and admin log entries keep pointing at it."""

from typing import Any

from django.db import migrations


def content_types_moved(old_app: str, new_app: str, models: list[str]) -> migrations.RunPython:
    def forwards(apps: Any, schema_editor: Any) -> None:
        _relabel(apps, old_app, new_app, models)

    def backwards(apps: Any, schema_editor: Any) -> None:
        _relabel(apps, new_app, old_app, models)

    return migrations.RunPython(forwards, backwards)


def _relabel(apps: Any, old_app: str, new_app: str, models: list[str]) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    taken = set(
        content_type.objects.filter(app_label=new_app, model__in=models).values_list(
            "model", flat=True
        )
    )
    content_type.objects.filter(app_label=old_app, model__in=models).exclude(
        model__in=taken
    ).update(app_label=new_app)
