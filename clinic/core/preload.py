"""Rows a request names by id, read in one statement instead of one query each.

A booking names its patient, type, provider, location and room: as DRF related fields they
are five queries, each compiled by the ORM and answered by PostgreSQL on its own. Here a
serializer reads them all at once (`rows_by_key`: LEFT JOINs on a single row) before its
fields validate; each related field takes its row from there, and asks its own queryset
only when the row is not there (a missing or malformed id), so the errors stay DRF's.
"""

import functools
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
    keys = tuple((model, field_name) for model, field_name, _ in lookups)
    params = [
        model._meta.get_field(field_name).get_db_prep_value(value, connection)  # type: ignore[union-attr]
        for model, field_name, value in lookups
    ]
    with connection.cursor() as cursor:
        cursor.execute(_rows_sql(keys, connection.alias), params)
        values = list(cursor.fetchone())
    rows: list[models.Model | None] = []
    for model, _ in keys:
        width = len(model._meta.concrete_fields)
        own, values = values[:width], values[width:]
        rows.append(row_from_db(model, own, connection) if own[0] is not None else None)
    return rows


@functools.cache
def _rows_sql(keys: tuple[tuple[type[models.Model], str], ...], alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns, joins = [], []
    for number, (model, field_name) in enumerate(keys):
        table, key = f"r{number}", model._meta.get_field(field_name)
        if not isinstance(key, models.Field) or not key.unique:
            raise ValueError(f"{model.__name__}.{field_name} is not a unique column")
        columns += columns_of(model, table, connection)
        joins.append(
            f"LEFT JOIN {quote(model._meta.db_table)} AS {table} "
            f"ON {table}.{quote(_column(key))} = %s"
        )
    # Table and column names come from the models' metadata, quoted; values are parameters.
    return f"SELECT {', '.join(columns)} FROM (SELECT 1) AS one {' '.join(joins)}"  # noqa: S608


def _column(field: Any) -> str:
    if not field.column:
        raise ValueError(f"{field} has no column")
    return str(field.column)


def columns_of(model: type[models.Model], alias: str, connection: Any) -> list[str]:
    """The model's concrete columns as `alias`."column", in the order row_from_db takes."""
    quote = connection.ops.quote_name
    return [f"{alias}.{quote(_column(field))}" for field in model._meta.concrete_fields]


def row_from_db(model: type[models.Model], values: list, connection: Any) -> models.Model:
    """The instance the ORM would build from the model's concrete columns (`columns_of`)
    read raw: each value through its field's converters, then `from_db`."""
    attnames, converters = _converters(model, connection.alias)
    converted = []
    for value, (column, convert_all) in zip(values, converters, strict=True):
        for convert in convert_all:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, attnames, converted)


@functools.cache
def _converters(model: type[models.Model], alias: str) -> tuple[list[str], list[tuple]]:
    """The attnames of the model's concrete fields and, for each, its column expression and
    the converters the ORM runs on its values (found once a process, as the ORM finds them
    for every query)."""
    connection = connections[alias]
    fields = model._meta.concrete_fields
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        found = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
        converters.append((column, found))
    return [field.attname for field in fields], converters


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
