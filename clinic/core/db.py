"""Small helpers for model definitions shared by the apps."""

from django.db import models


def choice_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """A CHECK constraint that keeps a choices column to its choices in PostgreSQL too."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)
