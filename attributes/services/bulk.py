"""Many writes at once: the bulk API and CSV import. A fixed handful of queries per chunk, not one per item."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from crm_project.parsing import MAX_ID
from customers.models import Customer

from .. import history, permissions
from ..models import Attribute
from ..permissions import Action
from . import fastinsert
from .common import (
    NameReserved,
    Result,
    UpsertResult,
    authorize,
    check_names_free,
    definitions_for,
    lost_deadlock,
    normalize_and_validate,
    stored_value,
)

BULK_MAX_ITEMS = 1000
ATTRIBUTE_COLUMNS = ["customer", "attribute_name", "attribute_value", "value_ciphertext", "created", "last_modified"]
_RACE_RETRIES = 5


@dataclass(frozen=True)
class ItemError:
    index: int | None
    field: str
    message: str


class BulkRejected(Exception):
    """At least one item is invalid; nothing was written. `errors` lists every failing item."""

    def __init__(self, errors: list[ItemError]):
        super().__init__(f"{len(errors)} invalid item(s)")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class BulkItem:
    index: int
    customer_id: int
    name: str
    value: str  # what is stored: a sensitive name's index token (attributes/sensitive.py)
    ciphertext: str = ""


Row = tuple[int, object, object, object]  # (index or line number, customer_id, name, value)


def _validate_items(rows: list[Row], seen: dict[tuple[int, str], int]) -> tuple[list[BulkItem], list[ItemError]]:
    """Normalize and check rows; `seen` spots a name repeated for one customer across calls."""
    valid, errors = [], []
    definitions = definitions_for(n.strip() for _, _, n, _ in rows if isinstance(n, str))
    for index, customer_id, name, value in rows:
        if isinstance(customer_id, bool) or not isinstance(customer_id, int) or not 1 <= customer_id <= MAX_ID:
            errors.append(ItemError(index, "customer_id", "Must be a customer id (a positive integer)."))
            continue
        try:
            name, value = normalize_and_validate(name=name, value=value, definitions=definitions)
            value, ciphertext = stored_value(definitions.get(name), customer_id=customer_id, name=name, value=value)
        except ValidationError as error:
            errors.extend(ItemError(index, f, " ".join(msgs)) for f, msgs in error.message_dict.items())
            continue
        key = (customer_id, name)
        if key in seen:
            message = f"“{name}” is repeated for customer {customer_id} (first at {seen[key]})."
            errors.append(ItemError(index, "attribute_name", message))
            continue
        seen[key] = index
        valid.append(BulkItem(index, customer_id, name, value, ciphertext))
    known = set(Customer.objects.filter(customer_id__in={i.customer_id for i in valid}).values_list("pk", flat=True))
    errors.extend(
        ItemError(i.index, "customer_id", "No customer with this id.") for i in valid if i.customer_id not in known
    )
    return [item for item in valid if item.customer_id in known], errors


ITEM_FIELDS = frozenset({"customer_id", "attribute_name", "attribute_value"})


def _item_errors(index: int, item: object, ignored_fields: Collection[str]) -> list[ItemError]:
    """The JSON shape of one bulk item: an object with exactly the item fields, of the JSON types they take.

    Checked by hand, not with a serializer per item (that was a third of a 1000-item request's time, cProfile).
    """
    if not isinstance(item, dict):
        return [ItemError(index, "non_field_errors", "Expected a JSON object.")]
    errors = [ItemError(index, key, "Unknown field.") for key in sorted(set(item) - ITEM_FIELDS - set(ignored_fields))]
    customer_id = item.get("customer_id")
    if "customer_id" not in item:
        errors.append(ItemError(index, "customer_id", "This field is required."))
    elif isinstance(customer_id, bool) or not isinstance(customer_id, int) or not 1 <= customer_id <= MAX_ID:
        errors.append(ItemError(index, "customer_id", f"Must be a JSON integer from 1 to {MAX_ID}."))
    for key in ("attribute_name", "attribute_value"):
        if key not in item:
            errors.append(ItemError(index, key, "This field is required."))
        elif not isinstance(item[key], str):
            errors.append(ItemError(index, key, "Must be a JSON string."))
    return errors


def _bulk_items(items: object, ignored_fields: Collection[str]) -> tuple[list[Row], list[BulkItem]]:
    """The items of a bulk write as rows and checked items, or BulkRejected listing every failing item."""
    if not isinstance(items, list):
        raise BulkRejected([ItemError(None, "non_field_errors", "Expected a JSON list of items.")])
    if not items or len(items) > BULK_MAX_ITEMS:
        message = f"Send 1 to {BULK_MAX_ITEMS} items (got {len(items)})."
        raise BulkRejected([ItemError(None, "non_field_errors", message)])
    shape_errors = [error for index, item in enumerate(items) for error in _item_errors(index, item, ignored_fields)]
    rows = [
        (i, it.get("customer_id"), it.get("attribute_name"), it.get("attribute_value"))
        if isinstance(it, dict)
        else (i, None, None, None)
        for i, it in enumerate(items)
    ]
    # The rules of the values are checked for every item (a repeated name is found even next to a malformed item);
    # an item whose shape is wrong reports only that.
    malformed = {error.index for error in shape_errors}
    valid, errors = _validate_items(rows, seen={})
    errors = shape_errors + [e for e in errors if e.index not in malformed]
    if errors:
        raise BulkRejected(sorted(errors, key=lambda e: e.index))
    return rows, valid


def _key(item: BulkItem) -> tuple[int, str]:
    return (item.customer_id, item.name)


def _decide(item: BulkItem, attribute: Attribute | None, *, actor, operation: str, now) -> tuple[Attribute, Result]:
    """Whether `item` creates, updates or leaves unchanged `attribute` (None: the key is free), marking history."""
    if attribute is None:
        attribute = Attribute(
            customer_id=item.customer_id,
            attribute_name=item.name,
            attribute_value=item.value,
            value_ciphertext=item.ciphertext,
            created=now,
            last_modified=now,
        )
        history.mark(attribute, actor=actor, operation=operation)
        return attribute, Result.CREATED
    if attribute.attribute_value == item.value:
        return attribute, Result.UNCHANGED
    history.mark(attribute, actor=actor, operation=operation, previous_value=attribute.attribute_value)
    attribute.attribute_value, attribute.value_ciphertext = item.value, item.ciphertext
    attribute.last_modified = now
    return attribute, Result.UPDATED


def _stored(items: list[BulkItem]) -> dict[tuple[int, str], Attribute]:
    """The stored rows of the items' (customer, name) keys: one query, an index lookup per key.

    PostgreSQL joins the exact key pairs, so every key is a probe of the unique (customer_id, attribute_name)
    index whatever the statistics say: `customer_id IN (…) AND attribute_name IN (…)` let the planner, with
    stale statistics for a name an import had just filled, scan that name's whole index range instead (88 ms a
    1000-row chunk at 100,000 rows of the name, against 5 ms; EXPLAIN ANALYZE on the bench data).
    """
    keys = sorted({_key(item) for item in items})
    if connection.vendor == "postgresql":
        table = Attribute._meta.db_table
        rows = Attribute.objects.raw(
            f"SELECT a.* FROM {connection.ops.quote_name(table)} a "
            "JOIN unnest(%s::bigint[], %s::text[]) AS k(customer_id, attribute_name) "
            "ON a.customer_id = k.customer_id AND a.attribute_name = k.attribute_name",
            [[c for c, _ in keys], [n for _, n in keys]],
        )
    else:
        rows = Attribute.objects.filter(customer_id__in={c for c, _ in keys}, attribute_name__in={n for _, n in keys})
    return {(a.customer_id, a.attribute_name): a for a in rows}


def _preview(items: list[BulkItem], *, actor, operation: str) -> list[tuple[BulkItem, Attribute, Result]]:
    """What writing the items would do, from the rows as they are now; locks nothing (dry runs, counting)."""
    existing, now = _stored(items), timezone.now()
    return [
        (item, *_decide(item, existing.get(_key(item)), actor=actor, operation=operation, now=now)) for item in items
    ]


def _write(items: list[BulkItem], *, actor, operation: str) -> list[tuple[BulkItem, Attribute, Result]]:
    """Create, update or leave each item, inside the caller's transaction; results in the items' order.

    Every key is taken in one global order, (customer_id, attribute_name): one INSERT … ON CONFLICT inserts
    the free keys and locks the rows holding the others, so a concurrent writer of the same key is neither
    an error nor a deadlock (it waits its turn). Only then are the held rows read and compared.
    """
    now = timezone.now()
    ordered = sorted(items, key=_key)
    candidates = [_decide(item, None, actor=actor, operation=operation, now=now)[0] for item in ordered]
    inserted = {
        (a.customer_id, a.attribute_name): a
        for a in fastinsert.insert_or_lock(Attribute, candidates, ATTRIBUTE_COLUMNS, ["customer", "attribute_name"])
    }
    held = [item for item in ordered if _key(item) not in inserted]
    existing = _stored(held) if held else {}  # locked by the INSERT above: nobody changes them until we commit
    plan = []
    for item in items:
        if (attribute := inserted.get(_key(item))) is not None:
            plan.append((item, attribute, Result.CREATED))
        elif (attribute := existing.get(_key(item))) is not None:
            plan.append((item, *_decide(item, attribute, actor=actor, operation=operation, now=now)))
        else:  # cannot happen with either database's ON CONFLICT; never write a wrong answer if it does
            raise IntegrityError(f"attribute {_key(item)} neither inserted nor found")
    _require_update_for(actor, plan)
    updated = [attribute for _, attribute, result in plan if result is Result.UPDATED]
    fastinsert.update_rows(
        Attribute, sorted(updated, key=lambda a: a.pk), ["attribute_value", "value_ciphertext", "last_modified"]
    )
    created = [inserted[_key(item)] for item in ordered if _key(item) in inserted]
    history.record_bulk([(a, "+") for a in created] + [(a, "~") for a in updated], actor=actor)
    if created or updated:
        # After the writes, in their transaction (see check_names_free): a rename job holding a name refuses them.
        check_names_free({a.attribute_name for a in created} | {a.attribute_name for a in updated})
    return plan


def _require_update_for(actor, plan) -> None:
    updating = [item.index for item, _, result in plan if result is not Result.CREATED]
    if updating and actor is not None and not permissions.has_permission(actor, Action.UPDATE):
        shown = ", ".join(str(i) for i in updating[:10]) + (" …" if len(updating) > 10 else "")
        raise PermissionDenied(
            "You need the update_customer_attribute permission: items " + shown + " name existing attributes."
        )


def attribute_bulk_upsert(*, items: object, actor, ignored_fields: Collection[str] = frozenset()) -> list[UpsertResult]:
    """Create-or-update many attributes (any customers) in one transaction: all or nothing.

    `items` is a list (1 to BULK_MAX_ITEMS) of dicts with customer_id, attribute_name and attribute_value, as
    parsed from JSON; keys in `ignored_fields` are allowed and ignored (read-only fields echoed back). This is
    the one place a bulk item is checked: anything invalid (the list, an item's shape or types, its name and
    value, a repeated name, a missing customer) raises BulkRejected listing every failing item, and nothing is
    written. Same permissions as attribute_upsert, per item. History rows are written in the same transaction.
    """
    authorize(actor, Action.CREATE)
    rows, valid = _bulk_items(items, ignored_fields)
    for attempt in range(_RACE_RETRIES):
        try:
            with transaction.atomic():
                plan = _write(valid, actor=actor, operation="bulk")
        except IntegrityError:
            # Not a lost race on a name (the INSERT takes those in turn) but a customer deleted meanwhile:
            # check the items again, which names it; if they are all fine, try once more.
            valid, errors = _validate_items(rows, seen={})
            if errors:
                raise BulkRejected(sorted(errors, key=lambda e: e.index)) from None
            if attempt == _RACE_RETRIES - 1:
                raise
        except OperationalError as error:
            # Aborted to end a deadlock with a fleet rename (see common.lost_deadlock): run it again.
            if not lost_deadlock(error) or attempt == _RACE_RETRIES - 1:
                raise
        else:
            return [UpsertResult(attribute, result) for _, attribute, result in plan]
    raise AssertionError("unreachable")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[ItemError] = field(default_factory=list)
    written: bool = False

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


def attribute_import(
    *,
    rows: Iterable[Row],
    actor,
    dry_run: bool,
    chunk_size: int = 1000,
    progress=None,
    operation: str = "import",
    counts: bool = True,
) -> ImportReport:
    """Import (line, customer_id, name, value) rows, e.g. from CSV: all or nothing for the whole file.

    Needs create and update permission. Every row is checked first; with any rejected row, or with `dry_run`,
    nothing is written and the report says what would have happened (with `counts=False` a dry run that
    rejects nothing only validates, 1.6 s instead of 4.4 s for 100,000 rows: the import job checks the whole
    file first and counts as it writes). `progress(n)` is called per chunk read.
    The rows are then written in chunks in (customer_id, attribute_name) order, whatever their order in the
    file, in one transaction: the one global order of every bulk write, so two imports (or an import and a
    bulk request) touching the same rows wait for each other instead of deadlocking.
    """
    authorize(actor, Action.CREATE)
    authorize(actor, Action.UPDATE)
    report = ImportReport()
    seen: dict[tuple[int, str], int] = {}
    valid: list[BulkItem] = []
    chunk: list[Row] = []

    def check(chunk: list[Row]) -> None:
        ok, errors = _validate_items(chunk, seen)
        report.rejected.extend(sorted(errors, key=lambda e: e.index))
        valid.extend(ok)
        if progress is not None:
            progress(len(chunk))

    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_size:
            check(chunk)
            chunk = []
    if chunk:
        check(chunk)
    chunks = [valid[start : start + chunk_size] for start in range(0, len(valid), chunk_size)]
    if dry_run and not counts and not report.rejected:
        return report
    if dry_run or report.rejected:
        for part in chunks:
            _count(report, _preview(part, actor=actor, operation=operation))
        return report
    valid.sort(key=_key)
    chunks = [valid[start : start + chunk_size] for start in range(0, len(valid), chunk_size)]
    try:
        for attempt in range(_RACE_RETRIES):
            report.created = report.updated = report.unchanged = 0
            try:
                with transaction.atomic():
                    for part in chunks:
                        _count(report, _write(part, actor=actor, operation=operation))
                break
            except OperationalError as error:  # aborted to end a deadlock (see common.lost_deadlock)
                if not lost_deadlock(error) or attempt == _RACE_RETRIES - 1:
                    raise
    except NameReserved as reserved:
        # A rename job holds some of the file's names: the whole file is refused (rolled back), naming its rows.
        report.created = report.updated = report.unchanged = 0
        message = reserved.messages[0]
        held = set(reserved.names)
        report.rejected.extend(ItemError(i.index, "attribute_name", message) for i in valid if i.name in held)
        return report
    except IntegrityError:
        # A customer was deleted after the rows were checked: say which rows, write nothing.
        known = set(Customer.objects.filter(pk__in={i.customer_id for i in valid}).values_list("pk", flat=True))
        gone = [
            ItemError(i.index, "customer_id", "No customer with this id.") for i in valid if i.customer_id not in known
        ]
        if not gone:
            raise
        report.created = report.updated = report.unchanged = 0
        report.rejected.extend(sorted(gone, key=lambda e: e.index))
        return report
    report.written = True
    return report


def _count(report: ImportReport, plan: list[tuple[BulkItem, Attribute, Result]]) -> None:
    for _, _, result in plan:
        setattr(report, result.value, getattr(report, result.value) + 1)
