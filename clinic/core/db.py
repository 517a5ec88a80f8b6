"""Small helpers for model definitions shared by the apps."""

from django.db import models


def choice_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """A CHECK constraint that keeps a choices column to its choices in PostgreSQL too."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class SingleRow(models.Model):
    """A table of one row (id 1): a clinic-wide policy edited by a manager in the admin.
    Subclasses add their own CheckConstraint `id = 1` in Meta."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def current(cls):
        row, _ = cls.objects.get_or_create(id=1)
        return row
