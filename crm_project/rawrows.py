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
from functools import cache, lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models


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
    db = connections[DEFAULT_DB_ALIAS]
    for index, found, col in _converters(model, names, db.vendor):
        for converter in found:
            values[index] = converter(values[index], col, db)
    return values


def instance(model: type[models.Model], row, names: tuple[str, ...] | None = None) -> models.Model:
    """`model.from_db` of one row of `columns(model, names=names)`, converted as the ORM converts. Fields not in
    `names` are deferred, as with `QuerySet.only()`: loaded by a query if something reads them."""
    return model.from_db(DEFAULT_DB_ALIAS, _attnames(model, names), converted(model, row, names))


@cache
def _attnames(model: type[models.Model], names: tuple[str, ...] | None = None) -> tuple[str, ...]:
    return tuple(f.attname for f in _fields(model, names))


def fetchall(sql: str, params) -> list[tuple]:
    """Every row of `sql`, logged like any query (DEBUG, CaptureQueriesContext); see the module docstring."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy is a context-local lookup
    if db.vendor == "postgresql":
        import psycopg

        db.close_if_health_check_failed()
        db.ensure_connection()
        with db.wrap_database_errors:
            raw = psycopg.Cursor(db.connection)
    elif db.queries_logged:  # DEBUG or a test capturing queries: Django's SQLite cursor logs the statement as written
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    else:
        # A plain sqlite3 cursor and the statement in SQLite's parameter style, converted once rather than by Django's
        # cursor on every run (a regular expression over the statement).
        db.ensure_connection()
        with db.wrap_database_errors:
            raw = db.connection.cursor()
        sql = _qmark(sql)
    # Execute wrappers (metrics), query logging and database errors as for any query.
    with db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@lru_cache(maxsize=64)
def _qmark(sql: str) -> str:
    """`%s` placeholders as SQLite's `?`, as Django's SQLite cursor converts them."""
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
