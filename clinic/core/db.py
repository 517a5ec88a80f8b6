"""Small helpers for model definitions shared by the apps."""

from typing import Any, Self

from django.core.exceptions import FieldDoesNotExist
from django.db import models


def choice_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """A CHECK constraint that keeps a choices column to its choices in PostgreSQL too."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


def concrete_field(model: type[models.Model], name: str) -> "models.Field[Any, Any]":
    """The model's own field `name`, as `_meta.get_field` finds it, but never a reverse
    relation (those have no column, attname or to_python)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is a reverse relation, not a field.")
    return field


def max_length(model: type[models.Model], name: str) -> int:
    """The max_length of the text field `name`, so a form field allows exactly as much."""
    length = concrete_field(model, name).max_length
    if length is None:
        raise TypeError(f"{model.__name__}.{name} has no max_length.")
    return length


class SingleRow(models.Model):
    """A table of one row (id 1): a clinic-wide policy edited by a manager in the admin.
    Subclasses add their own CheckConstraint `id = 1` in Meta."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def current(cls) -> Self:
        row, _ = cls._default_manager.get_or_create(id=1)
        return row
