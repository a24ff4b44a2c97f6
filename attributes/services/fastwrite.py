"""The single upsert's write in one statement: `attribute_upsert`'s common case (no If-Match, no If-None-Match).

PostgreSQL runs one statement (prepared, `crm_project.rawrows`), outside any transaction (so without BEGIN and COMMIT
round trips): CTEs lock the stored row (its previous value goes to history), check that the customer exists and
that no rename job holds the name, `INSERT … ON CONFLICT DO UPDATE … RETURNING` the attribute, and insert its
history row from what that returned. A statement is atomic on its own, so the attribute and its history row commit
together or not at all. Everything else a write records in the same transaction belongs in this statement too, as
one more CTE fed by `up`: the change event (the outbox row, `events/`) is one, next to `history`, and on SQLite a
statement next to the history INSERT, so it costs no round trip of its own.

Times are taken once the row is locked (`clock_timestamp()` in the statement; on SQLite after BEGIN IMMEDIATE):
a writer that waited for another's lock writes after it, so its last_modified and history time must be later too,
or the history would order the two writes the other way round (the two-instance scale-out test caught exactly
that when the time was taken before the statement).

SQLite has no data-modifying CTEs: there the same steps are statements in one `BEGIN IMMEDIATE` transaction, which
holds the write lock from the start, so reading the stored row first races no one.

`write` answers what happened; a case it cannot settle by itself (a concurrent writer inserted the name after the
statement's snapshot, or deleted the customer) is `Outcome.RACE`, and the caller falls back to the general path.
"""

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from enum import Enum

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm_project import rawrows
from customers.models import Customer
from events import services as events
from events.models import Event
from jobs.models import Job

from .. import history
from ..models import Attribute, NameReservation


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    UPDATE_REFUSED = "update refused"  # the name exists and the actor may not update it: nothing written
    NO_CUSTOMER = "no customer"
    RESERVED = "reserved"  # a rename job holds the name: nothing written
    RACE = "race"  # settle it on the general path


@dataclass(frozen=True)
class Written:
    outcome: Outcome
    attribute: Attribute | None = None


def _names():
    qn = connection.ops.quote_name
    history_model = Attribute.history.model
    return {
        "attribute": qn(Attribute._meta.db_table),
        "customer": qn(Customer._meta.db_table),
        "customer_pk": qn(Customer._meta.pk.column),
        "reservation": qn(NameReservation._meta.db_table),
        "job": qn(Job._meta.db_table),
        "job_pk": qn(Job._meta.pk.column),
        "history": qn(history_model._meta.db_table),
        "history_columns": ", ".join(qn(history_model._meta.get_field(f).column) for f in history.HISTORY_COLUMNS),
        "event": qn(Event._meta.db_table),
        "event_columns": ", ".join(qn(Event._meta.get_field(f).column) for f in events.COLUMNS),
    }


# In the order of Attribute's concrete fields (rawrows.instance).
_ATTRIBUTE_COLUMNS = (
    "attribute_id, customer_id, attribute_name, attribute_value, created, last_modified, value_ciphertext"
)


def _pg_sql() -> str:
    n = _names()
    return f"""
WITH reserved AS (
    SELECT r.name FROM {n["reservation"]} r JOIN {n["job"]} j ON j.{n["job_pk"]} = r.job_id
    WHERE r.name = %(name)s AND j.status = ANY(%(active)s)
), old AS (
    SELECT {_ATTRIBUTE_COLUMNS} FROM {n["attribute"]}
    WHERE customer_id = %(customer)s AND attribute_name = %(name)s FOR UPDATE
), up AS (
    INSERT INTO {n["attribute"]} (customer_id, attribute_name, attribute_value, created, last_modified,
        value_ciphertext)
    SELECT c.{n["customer_pk"]}, %(name)s, %(value)s, t.at, t.at, %(ciphertext)s
    FROM {n["customer"]} c, (SELECT clock_timestamp() AS at) t
    WHERE c.{n["customer_pk"]} = %(customer)s AND NOT EXISTS (SELECT 1 FROM reserved)
    ON CONFLICT (customer_id, attribute_name) DO UPDATE
        SET attribute_value = EXCLUDED.attribute_value, value_ciphertext = EXCLUDED.value_ciphertext,
            last_modified = clock_timestamp()
        WHERE %(may_update)s AND {n["attribute"]}.attribute_value <> EXCLUDED.attribute_value
          AND EXISTS (SELECT 1 FROM old)
    RETURNING {_ATTRIBUTE_COLUMNS}, NOT EXISTS (SELECT 1 FROM old) AS inserted
), history AS (
    INSERT INTO {n["history"]} ({n["history_columns"]})
    SELECT up.attribute_id, up.customer_id, up.attribute_name, up.attribute_value, up.created, up.last_modified,
        up.last_modified, CASE WHEN up.inserted THEN '+' ELSE '~' END, %(user_id)s::bigint, NULL,
        CASE WHEN up.inserted THEN %(create_op)s ELSE %(update_op)s END, %(channel)s, %(actor_name)s, %(token)s, '',
        CASE WHEN up.inserted THEN '' ELSE (SELECT attribute_value FROM old) END
    FROM up
), event AS (
    INSERT INTO {n["event"]} ({n["event_columns"]})
    SELECT %(event_id)s::uuid, CASE WHEN up.inserted THEN %(created_type)s ELSE %(updated_type)s END, up.last_modified,
        up.customer_id, up.attribute_id, up.attribute_name, up.attribute_value, '',
        CASE WHEN up.inserted THEN '' ELSE (SELECT attribute_value FROM old) END, %(actor_name)s, %(channel)s,
        %(token)s, %(batch)s::uuid
    FROM up
)
SELECT EXISTS (SELECT 1 FROM reserved),
    EXISTS (SELECT 1 FROM {n["customer"]} WHERE {n["customer_pk"]} = %(customer)s),
    up.attribute_id, up.customer_id, up.attribute_name, up.attribute_value, up.created, up.last_modified,
    up.value_ciphertext, up.inserted,
    old.attribute_id, old.customer_id, old.attribute_name, old.attribute_value, old.created, old.last_modified,
    old.value_ciphertext
FROM (SELECT 1) AS one LEFT JOIN up ON true LEFT JOIN old ON true
"""


_PG_SQL: str | None = None


def write(
    *, customer_id: int, name: str, value: str, ciphertext: str = "", may_update: bool, actor, operation: str = ""
) -> Written:
    """Create `name` on the customer, or update its value (only if `may_update`); see the module docstring.

    `value` is what is stored: for a sensitive name its index token, with `ciphertext` (attributes/sensitive.py),
    so the history and event rows this statement writes carry the token, never the plain value."""
    now = timezone.now()
    user_id, actor_name, channel, token = history.row_context(actor)
    params = {
        "customer": customer_id, "name": name, "value": value, "ciphertext": ciphertext, "now": now,
        "may_update": may_update,
        "active": [str(status) for status in Job.ACTIVE], "user_id": user_id, "actor_name": actor_name,
        "channel": channel, "token": token, "create_op": operation or "create", "update_op": operation or "update",
        "event_id": uuid.uuid4(), "batch": events.BATCH.get(), "created_type": Event.Type.CREATED.value,
        "updated_type": Event.Type.UPDATED.value,
    }  # fmt: skip
    if connection.vendor == "postgresql":
        return _write_postgresql(params)
    return _write_sqlite(params)


def _write_postgresql(params: dict) -> Written:
    global _PG_SQL
    if _PG_SQL is None:
        _PG_SQL = _pg_sql()
    try:
        # Inside a caller's transaction, a savepoint keeps it usable if a concurrent delete fails the statement.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            (row,) = rawrows.fetchall(_PG_SQL, params)  # a prepared statement after a few runs
    except IntegrityError:  # the customer was deleted after the statement's snapshot (a deferred foreign key)
        return Written(Outcome.RACE)
    reserved, customer_exists, *rest = row
    written, inserted, old = rest[:7], rest[7], rest[8:]
    if written[0] is not None:
        attribute = rawrows.instance(Attribute, written)
        return Written(Outcome.CREATED if inserted else Outcome.UPDATED, attribute)
    stored = rawrows.instance(Attribute, old) if old[0] is not None else None
    unwritten = _unwritten(params, reserved=reserved, customer_exists=customer_exists, stored=stored)
    return unwritten or Written(Outcome.RACE)


def _unwritten(params: dict, *, reserved: bool, customer_exists: bool, stored: Attribute | None) -> Written | None:
    """Why nothing is to be written, in the order the general path decides it; None when the write should happen."""
    if stored is not None:
        if not params["may_update"]:
            return Written(Outcome.UPDATE_REFUSED, stored)
        if stored.attribute_value == params["value"]:
            return Written(Outcome.UNCHANGED, stored)
    if reserved:
        return Written(Outcome.RESERVED)
    if stored is None and not customer_exists:
        return Written(Outcome.NO_CUSTOMER)
    return None


def _write_sqlite(params: dict) -> Written:
    n = _names()
    with transaction.atomic(), connection.cursor() as cursor:  # BEGIN IMMEDIATE: the write lock, from the start
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {n['reservation']} r JOIN {n['job']} j ON j.{n['job_pk']} = r.job_id "
            f"WHERE r.name = %s AND j.status IN ({', '.join(['%s'] * len(params['active']))})), "
            f"EXISTS (SELECT 1 FROM {n['customer']} WHERE {n['customer_pk']} = %s), old.* "
            f"FROM (SELECT 1) AS one LEFT JOIN (SELECT {_ATTRIBUTE_COLUMNS} FROM {n['attribute']} "
            "WHERE customer_id = %s AND attribute_name = %s) AS old ON 1",
            [params["name"], *params["active"], params["customer"], params["customer"], params["name"]],
        )
        reserved, customer_exists, *old = cursor.fetchone()
        stored = rawrows.instance(Attribute, old) if old[0] is not None else None
        unwritten = _unwritten(params, reserved=bool(reserved), customer_exists=bool(customer_exists), stored=stored)
        if unwritten is not None:
            return unwritten
        params["now"] = timezone.now()  # after BEGIN IMMEDIATE: this write's place in the order (see above)
        now = connection.ops.adapt_datetimefield_value(params["now"])
        if stored is None:
            cursor.execute(
                f"INSERT INTO {n['attribute']} (customer_id, attribute_name, attribute_value, created, last_modified, "
                f"value_ciphertext) VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_ATTRIBUTE_COLUMNS}",
                [params["customer"], params["name"], params["value"], now, now, params["ciphertext"]],
            )
        else:
            cursor.execute(
                f"UPDATE {n['attribute']} SET attribute_value = %s, value_ciphertext = %s, last_modified = %s "
                f"WHERE attribute_id = %s RETURNING {_ATTRIBUTE_COLUMNS}",
                [params["value"], params["ciphertext"], now, stored.attribute_id],
            )
        attribute = rawrows.instance(Attribute, cursor.fetchone())
        inserted = stored is None
        cursor.execute(
            f"INSERT INTO {n['history']} ({n['history_columns']}) VALUES ({', '.join(['%s'] * 16)})",
            [
                attribute.attribute_id, attribute.customer_id, attribute.attribute_name, attribute.attribute_value,
                connection.ops.adapt_datetimefield_value(attribute.created), now, now, "+" if inserted else "~",
                params["user_id"], None, params["create_op"] if inserted else params["update_op"], params["channel"],
                params["actor_name"], params["token"], "", "" if inserted else stored.attribute_value,
            ],
        )  # fmt: skip
        (event,) = events.event_rows(
            [
                events.Change(
                    kind="+" if inserted else "~", occurred_at=params["now"], customer_id=attribute.customer_id,
                    attribute_id=attribute.attribute_id, attribute_name=attribute.attribute_name,
                    attribute_value=attribute.attribute_value,
                    previous_value="" if inserted else stored.attribute_value,
                )
            ],
            username=params["actor_name"], channel=params["channel"], token_name=params["token"],
        )  # fmt: skip
        event = [now if column == "occurred_at" else value for column, value in zip(events.COLUMNS, event, strict=True)]
        cursor.execute(
            f"INSERT INTO {n['event']} ({n['event_columns']}) VALUES ({', '.join(['%s'] * len(event))})", event
        )
        return Written(Outcome.CREATED if inserted else Outcome.UPDATED, attribute)
