"""Model instances from rows of hand-written SQL, converted exactly as the ORM converts its own rows.

For the hot paths (the bearer-token lookup, the single upsert), where building and compiling an ORM query costs
more than running it. The column list and converters are computed once per model and database vendor.
"""

from functools import cache

from django.db import connection, models


@cache
def _converters(model: type[models.Model], vendor: str) -> tuple[tuple, ...]:
    result = []
    for field in model._meta.concrete_fields:
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        result.append((tuple(found), col))
    return tuple(result)


def columns(model: type[models.Model], alias: str = "") -> list[str]:
    """The model's concrete columns, quoted (and prefixed with `alias.`), in the order `instance` expects."""
    prefix = f"{alias}." if alias else ""
    return [prefix + connection.ops.quote_name(field.column) for field in model._meta.concrete_fields]


def instance(model: type[models.Model], values) -> models.Model:
    """`model.from_db` of one row of `columns(model)`, after the database's and the fields' converters."""
    values = list(values)
    for index, (found, col) in enumerate(_converters(model, connection.vendor)):
        for converter in found:
            values[index] = converter(values[index], col, connection)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], values)
