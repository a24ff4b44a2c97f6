"""Model instances from rows of hand-written SQL, converted exactly as the ORM converts its own rows.

For the hot paths (the bearer-token lookup, a customer's attributes, the single upsert), where building and
compiling an ORM query costs more than running it. The column list and converters are computed once per model and
database vendor.

`fetchall` runs a statement the hot paths repeat on every request. On PostgreSQL it binds parameters on the server
(psycopg's `Cursor`; the rest of Django binds on the client), so psycopg prepares the statement once a connection
has run it `prepare_threshold` times (5; `DB_PREPARE_THRESHOLD`) and afterwards the server skips parsing and
planning it: a third of the database's work for these short queries.
"""

import datetime
from functools import cache

from django.conf import settings
from django.db import connection, models


def _fields(model: type[models.Model], names: tuple[str, ...] | None) -> list[models.Field]:
    return list(model._meta.concrete_fields) if names is None else [model._meta.get_field(n) for n in names]


def _sqlite_utc_datetime(value, expression, connection):
    """SQLite's datetime converter for Django's own columns, which the sqlite3 module has already parsed (naive, in
    UTC, the connection's time zone): only the time zone to add, without `convert_datetimefield_value`'s settings
    and awareness checks on each of a list's values."""
    if value.__class__ is datetime.datetime and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return connection.ops.convert_datetimefield_value(value, expression, connection)


@cache
def _converters(model: type[models.Model], names: tuple[str, ...] | None, vendor: str) -> tuple[tuple, ...]:
    result = []
    utc = vendor == "sqlite" and settings.USE_TZ and connection.timezone_name == "UTC"
    for index, field in enumerate(_fields(model, names)):
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if utc and field.get_internal_type() == "DateTimeField":
            found = [_sqlite_utc_datetime if f == connection.ops.convert_datetimefield_value else f for f in found]
        if found:
            result.append((index, tuple(found), col))
    return tuple(result)


def columns(model: type[models.Model], alias: str = "", names: tuple[str, ...] | None = None) -> list[str]:
    """The model's concrete columns (or those of the fields `names`), quoted and prefixed with `alias.`."""
    prefix = f"{alias}." if alias else ""
    return [prefix + connection.ops.quote_name(field.column) for field in _fields(model, names)]


def converted(model: type[models.Model], row, names: tuple[str, ...] | None = None) -> list:
    """One row of `columns(model, names=names)` as the ORM would read it (its database's and fields' converters)."""
    values = list(row)
    for index, found, col in _converters(model, names, connection.vendor):
        for converter in found:
            values[index] = converter(values[index], col, connection)
    return values


def instance(model: type[models.Model], row) -> models.Model:
    """`model.from_db` of one row of `columns(model)`, converted as the ORM converts."""
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], converted(model, row))


def fetchall(sql: str, params) -> list[tuple]:
    """Every row of `sql`, logged like any query (DEBUG, CaptureQueriesContext); see the module docstring."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    import psycopg

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
