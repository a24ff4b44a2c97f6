"""Multi-row INSERT for the bulk write paths, without the ORM's per-object overhead.

Profiling `seed_bench` (cProfile, 20,000 attributes) showed two thirds of the time in
`QuerySet.bulk_create` building SQL value by value (`SQLInsertCompiler.as_sql`, `prepare_value`,
`get_db_prep_save`), for the attribute rows and again for their history rows; a plain multi-row
VALUES statement then spent most of its time in psycopg splitting the huge query text. So:
- PostgreSQL: `COPY … FROM STDIN` when no keys are needed (history rows), else
  `INSERT … SELECT * FROM unnest(%s::type[], …) RETURNING pk`, one array parameter per column whatever
  the batch size;
- SQLite: `executemany` of a one-row INSERT, or one multi-row `INSERT … RETURNING` when keys are needed.
Both databases return RETURNING rows in insertion order, which Django's bulk_create relies on as well.

`insert_or_lock` is the upsert of the bulk paths: `INSERT … ON CONFLICT` on the unique key, so a key that a
concurrent writer has just taken is a row to update, never an IntegrityError.
"""

from collections.abc import Sequence
from contextlib import nullcontext

from django.db import connections, models, router

BATCH = 5000


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence], *, returning_pk: bool
) -> list | None:
    """INSERT `rows` (tuples in the order of `fields`); with `returning_pk`, return the new primary keys."""
    if not rows:
        return [] if returning_pk else None
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    field_objs = [opts.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table_columns = f"{quote(opts.db_table)} ({', '.join(quote(f.column) for f in field_objs)})"
    returning = f" RETURNING {quote(opts.pk.column)}" if returning_pk else ""
    pks: list = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not returning_pk:
            # COPY: psycopg streams the rows in its C extension. Logged like any query when queries are
            # being recorded (DEBUG, CaptureQueriesContext).
            sql = f"COPY {table_columns} FROM STDIN"
            logged = cursor.debug_sql(sql, rows, many=True) if hasattr(cursor, "debug_sql") else nullcontext()
            with logged, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return None
        if connection.vendor == "postgresql":
            types = ", ".join(f"%s::{f.cast_db_type(connection).split('(')[0]}[]" for f in field_objs)
            sql = f"INSERT INTO {table_columns} SELECT * FROM unnest({types}){returning}"
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
                if returning_pk:
                    pks.extend(pk for (pk,) in cursor.fetchall())
            return pks if returning_pk else None
        rows = _sqlite_rows(connection, field_objs, rows)
        if not returning_pk:
            one = "(" + ", ".join(["%s"] * len(field_objs)) + ")"
            cursor.executemany(f"INSERT INTO {table_columns} VALUES {one}", rows)
            return None
        return [pk for (pk,) in _sqlite_insert_returning(cursor, table_columns, len(field_objs), rows, returning)]


def _sqlite_rows(connection, field_objs, rows: Sequence[Sequence]) -> list[tuple]:
    """SQLite's driver takes no datetime objects: adapt them as Django does."""
    dates = [i for i, f in enumerate(field_objs) if isinstance(f, models.DateTimeField)]
    if not dates:
        return [tuple(r) for r in rows]
    adapt = connection.ops.adapt_datetimefield_value
    return [tuple(adapt(v) if i in dates and v is not None else v for i, v in enumerate(r)) for r in rows]


def _sqlite_insert_returning(cursor, table_columns: str, width: int, rows: list[tuple], suffix: str) -> list[tuple]:
    """Multi-row `INSERT … VALUES (…), (…) <suffix>` in statements of at most SQLite's bound-parameter limit."""
    one = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = max(1, 30000 // width)  # SQLite allows 32766 bound parameters
    returned: list[tuple] = []
    for start in range(0, len(rows), per_statement):
        batch = rows[start : start + per_statement]
        cursor.execute(
            f"INSERT INTO {table_columns} VALUES {', '.join([one] * len(batch))}{suffix}",
            [value for row in batch for value in row],
        )
        returned.extend(cursor.fetchall())
    return returned


def insert_or_lock(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str], unique: Sequence[str]
) -> list[models.Model]:
    """INSERT the objects whose `unique` key is free; lock the rows that already hold the others. Returns the inserted.

    One `INSERT … ON CONFLICT (unique) DO UPDATE … WHERE false` (PostgreSQL and SQLite 3.35+): a key taken by
    a committed row is not an error but a row lock (PostgreSQL locks the conflicting row even when the
    WHERE leaves it unchanged, and waits for a writer whose insert of the key is still uncommitted), and
    RETURNING names only the rows actually inserted. Keys are inserted or locked in the order of `objs`, so
    callers that pass them in one global order never deadlock with each other. The returned objects have
    their primary key set; the others stay unsaved, and the caller reads the rows it now holds.
    """
    if not objs:
        return []
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    quote = connection.ops.quote_name
    field_objs = [opts.get_field(name) for name in fields]
    unique_cols = [opts.get_field(name).column for name in unique]
    attnames = [f.attname for f in field_objs]
    unique_attnames = [opts.get_field(name).attname for name in unique]
    table_columns = f"{quote(opts.db_table)} ({', '.join(quote(f.column) for f in field_objs)})"
    conflict = (
        f" ON CONFLICT ({', '.join(quote(c) for c in unique_cols)}) DO UPDATE SET"
        f" {quote(unique_cols[0])} = EXCLUDED.{quote(unique_cols[0])} WHERE false"
        f" RETURNING {', '.join(quote(c) for c in [opts.pk.column, *unique_cols])}"
    )
    rows = [tuple(getattr(o, a) for a in attnames) for o in objs]
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ", ".join(f"%s::{f.cast_db_type(connection).split('(')[0]}[]" for f in field_objs)
            # ORDER BY ordinality: rows are inserted (and conflicting rows locked) in exactly the given order.
            sql = (
                f"INSERT INTO {table_columns} SELECT {', '.join(f'u.c{i}' for i in range(len(field_objs)))} "
                f"FROM unnest({types}) WITH ORDINALITY AS u({', '.join(f'c{i}' for i in range(len(field_objs)))}, n) "
                f"ORDER BY u.n{conflict}"
            )
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
                returned.extend(cursor.fetchall())
        else:
            rows = _sqlite_rows(connection, field_objs, rows)
            returned = _sqlite_insert_returning(cursor, table_columns, len(field_objs), rows, conflict)
    pks = {tuple(row[1:]): row[0] for row in returned}
    inserted = []
    for obj in objs:
        pk = pks.get(tuple(getattr(obj, a) for a in unique_attnames))
        if pk is not None:
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
            inserted.append(obj)
    return inserted


def update_rows(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """UPDATE `fields` of saved objects to their current values, one statement per batch (not `bulk_update`).

    `bulk_update` builds a `CASE WHEN pk = … THEN …` expression per row and field: for a 1000-row import chunk
    that was 1.9 of its 2.5 s, nearly all in Python compiling the expression (cProfile on the bench data).
    PostgreSQL: `UPDATE … FROM unnest(%s::type[], …)`, one array per column; SQLite: `executemany` of a one-row
    UPDATE, a loop in the driver's C code. Rows are updated in the order of `objs` (callers pass primary-key
    order, the order the rows were locked in).
    """
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    quote = connection.ops.quote_name
    field_objs = [opts.get_field(name) for name in fields]
    pk = opts.pk
    rows = [(getattr(o, pk.attname), *(getattr(o, f.attname) for f in field_objs)) for o in objs]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [pk, *field_objs]
            types = ", ".join(f"%s::{f.cast_db_type(connection).split('(')[0]}[]" for f in columns)
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            assignments = ", ".join(f"{quote(f.column)} = u.c{i + 1}" for i, f in enumerate(field_objs))
            sql = (
                f"UPDATE {quote(opts.db_table)} SET {assignments} FROM unnest({types}) AS u({names}) "
                f"WHERE {quote(opts.db_table)}.{quote(pk.column)} = u.c0"
            )
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
            return
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in field_objs)
        sql = f"UPDATE {quote(opts.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"
        adapted = _sqlite_rows(connection, [pk, *field_objs], rows)
        cursor.executemany(sql, [(*row[1:], row[0]) for row in adapted])
