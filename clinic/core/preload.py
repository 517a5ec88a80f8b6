"""Rows a request names by id, read in one statement instead of one query each.

A booking names its patient, type, provider, location and room: as DRF related fields they
are five queries, each compiled by the ORM and answered by PostgreSQL on its own. Here a
serializer reads them all at once (`rows_by_key`: LEFT JOINs on a single row) before its
fields validate; each related field takes its row from there, and asks its own queryset
only when the row is not there (a missing or malformed id), so the errors stay DRF's.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, models, router
from rest_framework import relations, serializers


def rows_by_key(lookups: list[tuple[type[models.Model], str, Any]]) -> list[models.Model | None]:
    """The row of each (model, unique field, value), None where there is none, in one
    statement. Rows are built as the ORM builds them (the fields' converters, `from_db`),
    so loading a patient's row notes it for the read audit (clinic/audit/reads.py)."""
    if not lookups:
        return []
    connection = connections[router.db_for_read(lookups[0][0])]
    quote = connection.ops.quote_name
    columns, joins, params = [], [], []
    for number, (model, field_name, value) in enumerate(lookups):
        alias, key = f"r{number}", model._meta.get_field(field_name)
        if not isinstance(key, models.Field) or not key.unique:
            raise ValueError(f"{model.__name__}.{field_name} is not a unique column")
        columns += [f"{alias}.{quote(_column(field))}" for field in model._meta.concrete_fields]
        joins.append(
            f"LEFT JOIN {quote(model._meta.db_table)} AS {alias} "
            f"ON {alias}.{quote(_column(key))} = %s"
        )
        params.append(key.get_db_prep_value(value, connection))
    # Table and column names come from the models' metadata, quoted; values are parameters.
    sql = f"SELECT {', '.join(columns)} FROM (SELECT 1) AS one {' '.join(joins)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = list(cursor.fetchone())
    rows: list[models.Model | None] = []
    for model, _, _ in lookups:
        fields = model._meta.concrete_fields
        own, values = values[: len(fields)], values[len(fields) :]
        rows.append(_row(model, fields, own, connection) if own[0] is not None else None)
    return rows


def _column(field: Any) -> str:
    if not field.column:
        raise ValueError(f"{field} has no column")
    return str(field.column)


def _row(model: type[models.Model], fields, values: list, connection) -> models.Model:
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for convert in (
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        ):
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


class PreloadedField(relations.RelatedField):
    """A related field that takes the row its serializer read with the others, and asks its
    queryset only without one. `preload_if`: what a read row must satisfy to stand for the
    field's queryset when that queryset filters (e.g. only active types)."""

    preload_if: Callable[[Any], bool] | None = None

    def __init__(
        self, *args: Any, preload_if: Callable[[Any], bool] | None = None, **kwargs: Any
    ) -> None:
        self.preload_if = preload_if
        super().__init__(*args, **kwargs)

    def key_name(self, model: type[models.Model]) -> str:
        """The unique field of `model` the given value is."""
        raise NotImplementedError

    def to_internal_value(self, data: Any) -> Any:
        given, row = getattr(self.parent, "preloaded", {}).get(self.field_name, (None, None))
        if row is not None and given is data:
            return row
        return super().to_internal_value(data)


class PreloadedPrimaryKeyRelatedField(PreloadedField, relations.PrimaryKeyRelatedField):
    def key_name(self, model: type[models.Model]) -> str:
        return model._meta.pk.name


class PreloadedSlugRelatedField(PreloadedField, relations.SlugRelatedField):
    def key_name(self, model: type[models.Model]) -> str:
        return self.slug_field


class PreloadingSerializer(serializers.Serializer):
    """Reads the rows its preloaded related fields name in one statement before they
    validate (a ModelSerializer: set `serializer_related_field` to
    PreloadedPrimaryKeyRelatedField as well)."""

    preloaded: dict[str, tuple[Any, models.Model]]

    def to_internal_value(self, data: Any) -> Any:
        self.preloaded = preload(self, data) if isinstance(data, Mapping) else {}
        return super().to_internal_value(data)


def preload(serializer: serializers.Serializer, data: Mapping) -> dict:
    """{field name: (the value given, its row)} for the preloaded fields given a well-formed
    key whose row exists and stands for the field's queryset (a queryset that filters needs
    the field's `preload_if`)."""
    asked = []
    for name, field in serializer.fields.items():
        if not isinstance(field, PreloadedField) or field.read_only:
            continue
        queryset = field.get_queryset()
        if queryset is None or (queryset.query.has_filters() and field.preload_if is None):
            continue
        given = data.get(name)
        model = queryset.model
        key = model._meta.get_field(field.key_name(model))
        if isinstance(given, bool) or not isinstance(given, str | int) or given == "":
            continue
        try:
            value = key.to_python(given)
        except ValidationError:
            continue
        asked.append((name, given, field, (model, key.name, value)))
    rows = rows_by_key([lookup for *_, lookup in asked])
    return {
        name: (given, row)
        for (name, given, field, _), row in zip(asked, rows, strict=True)
        if row is not None and (field.preload_if is None or field.preload_if(row))
    }
