"""The single upsert's write in one statement: `attribute_upsert`'s common case (no If-Match, no If-None-Match).

PostgreSQL runs one statement (prepared, `crm_project.rawrows`), outside any transaction (so without BEGIN and COMMIT
round trips): CTEs lock the stored row (its previous value goes to history), check that the customer exists and
that no rename job holds the name, `INSERT … ON CONFLICT DO UPDATE … RETURNING` the attribute, and insert its
history row from what that returned. A statement is atomic on its own, so the attribute and its history row commit
together or not at all. Everything else a write records in the same transaction belongs in this statement too, as
one more CTE fed by `up`: the change event (the outbox row, `events/`) is one, next to `history`, so it costs no
round trip of its own.

Times are taken once the row is locked (`clock_timestamp()` in the statement; on SQLite by `crm_fastwrite('now')`
inside the statement, which holds the write lock from its start): a writer that waited for another's lock writes
after it, so its last_modified and history time must be later too, or the history would order the two writes the
other way round (the two-instance scale-out test caught exactly that when the time was taken before the statement).

SQLite has no data-modifying CTEs, but it has triggers and functions written in Python: there the write is one
`INSERT … SELECT … ON CONFLICT DO UPDATE … RETURNING` in autocommit (a statement is its own transaction, so no
BEGIN or COMMIT), and two TEMP triggers made on each connection insert the history row and the event inside that
statement, reading the actor, channel and ids from `crm_fastwrite(key)`, a function Django's SQLite connections
define (`register_sqlite_function`). The triggers run only while a fast write is in progress on the thread, so
every other write to the table is untouched, and nothing outside Django (the sqlite3 shell) ever sees them.

`write` answers what happened; a case it cannot settle by itself (a concurrent writer inserted the name after the
statement's snapshot, or deleted the customer) is `Outcome.RACE`, and the caller falls back to the general path.
"""

import functools
import uuid
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm_project import rawrows, requestid
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


@functools.cache  # the models' metadata only: built once, not on every write
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
        CASE WHEN up.inserted THEN '' ELSE (SELECT attribute_value FROM old) END, %(request_id)s
    FROM up
), event AS (
    INSERT INTO {n["event"]} ({n["event_columns"]})
    SELECT %(event_id)s::uuid, CASE WHEN up.inserted THEN %(created_type)s ELSE %(updated_type)s END, up.last_modified,
        up.customer_id, up.attribute_id, up.attribute_name, up.attribute_value, '',
        CASE WHEN up.inserted THEN '' ELSE (SELECT attribute_value FROM old) END, %(actor_name)s, %(channel)s,
        %(token)s, %(batch)s::uuid, %(request_id)s
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
        "updated_type": Event.Type.UPDATED.value, "request_id": requestid.current(),
    }  # fmt: skip
    if connection.vendor == "postgresql":
        return _write_postgresql(params)
    return _write_sqlite(params)


def _write_postgresql(params: dict) -> Written:
    try:
        # Inside a caller's transaction, a savepoint keeps it usable if a concurrent delete fails the statement.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            (row,) = rawrows.fetchall(_pg_sql(), params)  # a prepared statement after a few runs
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


# --- SQLite: one INSERT … ON CONFLICT statement; per-connection TEMP triggers write its history row and event ---

_WRITE: ContextVar[dict | None] = ContextVar("fastwrite_sqlite", default=None)
_CONTEXT_FUNCTION = "crm_fastwrite"
_TRIGGERS = ("crm_fastwrite_created", "crm_fastwrite_updated")


def _context(key: str, *previous):
    """The SQL function `crm_fastwrite(key)`: a value of the write in progress on this thread (NULL outside one).

    'now' is taken at its first use, inside the statement, so after the statement holds the write lock; the
    update's `crm_fastwrite('now', <stored value>)` also keeps the value it replaces. 'created' / 'updated' name
    which trigger ran, so `write` knows which it was (and that the triggers exist)."""
    current = _WRITE.get()
    if current is None:
        return None
    if key == "now":
        if previous:
            current["previous"] = previous[0]
        if "now" not in current:
            current["now_value"] = timezone.now()
            current["now"] = connection.ops.adapt_datetimefield_value(current["now_value"])
        return current["now"]
    if key in ("created", "updated"):
        current["fired"] = key
        return key
    return current[key]


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """`connection_created`: every SQLite connection Django opens knows `crm_fastwrite` (attributes/apps.py)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(_CONTEXT_FUNCTION, -1, _context)


@functools.cache  # the models' metadata only: built once, not on every write
def _trigger_sql() -> tuple[str, ...]:
    """The TEMP triggers (this connection's only: nothing outside Django ever runs them) that record a fast
    write's history row and change event inside its statement. They run only while `crm_fastwrite('active')` is
    set, so every other write to the table (the ORM, bulk, jobs) is untouched."""
    n = _names()
    f = _CONTEXT_FUNCTION
    table = n["attribute"]
    statements = []
    for trigger, when, kind, previous in (
        (_TRIGGERS[0], "INSERT", "created", "''"),
        (_TRIGGERS[1], "UPDATE", "updated", "OLD.attribute_value"),
    ):
        history_type = "'+'" if kind == "created" else "'~'"
        operation = f"{f}('create_op')" if kind == "created" else f"{f}('update_op')"
        event_type = f"{f}('created_type')" if kind == "created" else f"{f}('updated_type')"
        statements.append(f"""
CREATE TEMP TRIGGER IF NOT EXISTS {trigger} AFTER {when} ON main.{table} WHEN {f}('active') IS NOT NULL
BEGIN
    INSERT INTO {n["history"]} ({n["history_columns"]}) VALUES (
        NEW.attribute_id, NEW.customer_id, NEW.attribute_name, NEW.attribute_value, NEW.created, NEW.last_modified,
        NEW.last_modified, {history_type}, {f}('user_id'), NULL, {operation}, {f}('channel'), {f}('actor_name'),
        {f}('token'), '', {previous}, {f}('request_id'));
    INSERT INTO {n["event"]} ({n["event_columns"]}) VALUES (
        {f}('event_id'), {event_type}, NEW.last_modified, NEW.customer_id, NEW.attribute_id, NEW.attribute_name,
        NEW.attribute_value, '', {previous}, {f}('actor_name'), {f}('channel'), {f}('token'), {f}('batch'),
        {f}('request_id'));
    SELECT {f}('{kind}');
END""")
    return tuple(statements)


@functools.cache  # the models' metadata only: built once, not on every write
def _sqlite_sql() -> str:
    n = _names()
    f = _CONTEXT_FUNCTION
    return f"""
INSERT INTO {n["attribute"]} (customer_id, attribute_name, attribute_value, created, last_modified, value_ciphertext)
SELECT c.{n["customer_pk"]}, %s, %s, {f}('now'), {f}('now'), %s FROM {n["customer"]} c
WHERE c.{n["customer_pk"]} = %s AND NOT EXISTS (
    SELECT 1 FROM {n["reservation"]} r JOIN {n["job"]} j ON j.{n["job_pk"]} = r.job_id
    WHERE r.name = %s AND j.status IN (SELECT value FROM json_each(%s)))
ON CONFLICT (customer_id, attribute_name) DO UPDATE
    SET attribute_value = excluded.attribute_value, value_ciphertext = excluded.value_ciphertext,
        last_modified = {f}('now', {n["attribute"]}.attribute_value)
    WHERE %s AND {n["attribute"]}.attribute_value <> excluded.attribute_value
RETURNING {_ATTRIBUTE_COLUMNS}
"""


@functools.cache  # the models' metadata only: built once, not on every write
def _sqlite_state_sql() -> str:
    n = _names()
    return (
        f"SELECT EXISTS (SELECT 1 FROM {n['reservation']} r JOIN {n['job']} j ON j.{n['job_pk']} = r.job_id "
        f"WHERE r.name = %s AND j.status IN (SELECT value FROM json_each(%s))), "
        f"EXISTS (SELECT 1 FROM {n['customer']} WHERE {n['customer_pk']} = %s), old.* "
        f"FROM (SELECT 1) AS one LEFT JOIN (SELECT {_ATTRIBUTE_COLUMNS} FROM {n['attribute']} "
        "WHERE customer_id = %s AND attribute_name = %s) AS old ON 1"
    )


def _ensure_triggers(cursor) -> None:
    """Create this connection's triggers once (at its first fast write: at connect time the tables may not exist
    yet, e.g. while the test database migrates)."""
    raw = connection.connection
    if getattr(connection, "_fastwrite_triggers_on", None) is raw:
        return
    for statement in _trigger_sql():
        cursor.execute(statement)
    connection._fastwrite_triggers_on = raw


def _write_sqlite(params: dict) -> Written:
    import json

    context = {
        key: params[key]
        for key in ("user_id", "actor_name", "channel", "token", "create_op", "update_op", "created_type",
                    "updated_type", "request_id")
    }  # fmt: skip
    context["active"] = 1
    context["event_id"] = params["event_id"].hex
    context["batch"] = params["batch"].hex if params["batch"] else None
    active = json.dumps(params["active"])
    reset = _WRITE.set(context)
    try:
        # Inside a caller's transaction, a savepoint keeps it usable if the statement fails.
        with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
            _ensure_triggers(cursor)
            # Autocommit: one statement is its own transaction, so the attribute, its history row and its event
            # (the triggers) commit together or not at all, without BEGIN and COMMIT statements.
            cursor.execute(
                _sqlite_sql(),
                [
                    params["name"],
                    params["value"],
                    params["ciphertext"],
                    params["customer"],
                    params["name"],
                    active,
                    params["may_update"],
                ],  # fmt: skip
            )
            row = cursor.fetchone()
            if row is not None and "fired" not in context:
                # The table was rebuilt since the triggers were made (a migration in this process drops them
                # with it): record this write the long way, then make them again for the next.
                _record_untriggered(cursor, context, rawrows.instance(Attribute, row))
                connection._fastwrite_triggers_on = None
                _ensure_triggers(cursor)
    finally:
        _WRITE.reset(reset)
    if row is not None:
        attribute = rawrows.instance(Attribute, row)
        return Written(Outcome.CREATED if context["fired"] == "created" else Outcome.UPDATED, attribute)
    with connection.cursor() as cursor:  # nothing written: why (the same decision as PostgreSQL's)
        cursor.execute(
            _sqlite_state_sql(), [params["name"], active, params["customer"], params["customer"], params["name"]]
        )
        reserved, customer_exists, *old = cursor.fetchone()
    stored = rawrows.instance(Attribute, old) if old[0] is not None else None
    unwritten = _unwritten(params, reserved=bool(reserved), customer_exists=bool(customer_exists), stored=stored)
    return unwritten or Written(Outcome.RACE)


def _record_untriggered(cursor, context: dict, attribute: Attribute) -> None:
    """The triggers' two rows, written by statements (see `_write_sqlite`): only after a table rebuild."""
    n = _names()
    inserted = "previous" not in context
    context["fired"] = "created" if inserted else "updated"
    previous = "" if inserted else context["previous"]
    now = context["now"]
    marks = ", ".join(["%s"] * len(history.HISTORY_COLUMNS))
    cursor.execute(
        f"INSERT INTO {n['history']} ({n['history_columns']}) VALUES ({marks})",
        [
            attribute.attribute_id, attribute.customer_id, attribute.attribute_name, attribute.attribute_value,
            connection.ops.adapt_datetimefield_value(attribute.created), now, now, "+" if inserted else "~",
            context["user_id"], None, context["create_op" if inserted else "update_op"], context["channel"],
            context["actor_name"], context["token"], "", previous, context["request_id"],
        ],
    )  # fmt: skip
    cursor.execute(
        f"INSERT INTO {n['event']} ({n['event_columns']}) VALUES ({', '.join(['%s'] * len(events.COLUMNS))})",
        [
            context["event_id"], context["created_type" if inserted else "updated_type"], now, attribute.customer_id,
            attribute.attribute_id, attribute.attribute_name, attribute.attribute_value, "", previous,
            context["actor_name"], context["channel"], context["token"], context["batch"], context["request_id"],
        ],
    )  # fmt: skip
