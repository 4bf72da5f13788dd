"""Hand-written statements on the request path: a cursor that prepares them on the server,
and unsaved model instances as the columns and values of an ``INSERT`` (for a statement
that writes several tables at once, ``billing.ledger.hold_settled``).

An instance's values are what ``Model.save`` would send for a new row: each field's
``pre_save`` (``auto_now_add`` and the like) then ``get_db_prep_save``; a primary key the
database numbers is left to it. No signals are sent, as with ``bulk_create``.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper


def prepared_cursor() -> Any:
    """A cursor for a statement run on every request: on PostgreSQL one that binds on the
    server, so the connection prepares the statement once (``prepare_threshold``,
    settings) and then skips its planning; Django's own cursors bind on the client and
    never prepare. Elsewhere, or with DATABASE_PREPARE=false, Django's cursor."""
    if (
        connection.vendor != "postgresql"
        or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None
    ):
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    cursor: Any = psycopg.Cursor(connection.connection)  # the stubs want a wrapper here
    if connection.queries_logged:  # DEBUG, or a test capturing queries
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


class Row(NamedTuple):
    table: str
    columns: tuple[str, ...]
    values: list[Any]


@functools.cache
def _fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    meta = model._meta
    return tuple(
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not getattr(field, "generated", False)
    )


def row_of(obj: models.Model, db: BaseDatabaseWrapper) -> Row:
    """The table, quoted columns and database values of ``obj`` as a new row."""
    model = type(obj)
    if model._meta.auto_field is not None and obj.pk is not None:
        raise ValueError(f"{model.__name__} {obj.pk} is stored already")
    fields = _fields(model)
    return Row(
        db.ops.quote_name(model._meta.db_table),
        tuple(db.ops.quote_name(str(field.column)) for field in fields),
        [field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields],
    )


def mark_stored(obj: models.Model, db: BaseDatabaseWrapper) -> None:
    """Record that ``obj`` is in the database now (as ``save`` would)."""
    obj._state.adding, obj._state.db = False, db.alias
