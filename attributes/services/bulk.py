"""Many writes at once: the bulk API and CSV import. A fixed handful of queries per chunk, not one per item."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer

from .. import history, permissions
from ..models import Attribute
from ..permissions import Action
from . import fastinsert
from .common import Result, UpsertResult, authorize, definitions_for, normalize_and_validate

BULK_MAX_ITEMS = 1000
ATTRIBUTE_COLUMNS = ["customer", "attribute_name", "attribute_value", "created", "last_modified"]
_RACE_RETRIES = 3


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


@dataclass(frozen=True)
class BulkItem:
    index: int
    customer_id: int
    name: str
    value: str


Row = tuple[int, object, object, object]  # (index or line number, customer_id, name, value)


def _validate_items(rows: list[Row], seen: dict[tuple[int, str], int]) -> tuple[list[BulkItem], list[ItemError]]:
    """Normalize and check rows; `seen` spots a name repeated for one customer across calls."""
    valid, errors = [], []
    definitions = definitions_for(n.strip() for _, _, n, _ in rows if isinstance(n, str))
    for index, customer_id, name, value in rows:
        if isinstance(customer_id, bool) or not isinstance(customer_id, int) or not 0 < customer_id < 2**63:
            errors.append(ItemError(index, "customer_id", "Must be a customer id (a positive integer)."))
            continue
        try:
            name, value = normalize_and_validate(name=name, value=value, definitions=definitions)
        except ValidationError as error:
            errors.extend(ItemError(index, f, " ".join(msgs)) for f, msgs in error.message_dict.items())
            continue
        key = (customer_id, name)
        if key in seen:
            message = f"“{name}” is repeated for customer {customer_id} (first at {seen[key]})."
            errors.append(ItemError(index, "attribute_name", message))
            continue
        seen[key] = index
        valid.append(BulkItem(index, customer_id, name, value))
    known = set(Customer.objects.filter(customer_id__in={i.customer_id for i in valid}).values_list("pk", flat=True))
    errors.extend(
        ItemError(i.index, "customer_id", "No customer with this id.") for i in valid if i.customer_id not in known
    )
    return [item for item in valid if item.customer_id in known], errors


def validate_bulk_items(items: list[dict]) -> list[ItemError]:
    """Every error that `attribute_bulk_upsert` would report for these items, without writing anything."""
    rows = [
        (i, it.get("customer_id"), it.get("attribute_name"), it.get("attribute_value")) for i, it in enumerate(items)
    ]
    return _validate_items(rows, seen={})[1]


def _plan(items: list[BulkItem], *, actor, operation: str) -> list[tuple[BulkItem, Attribute, Result]]:
    """Lock the rows the items touch and decide, per item, whether it creates, updates or changes nothing."""
    # Rows are locked in id order (never changes, unlike a name a rename may change meanwhile), so two
    # concurrent bulk writes over the same rows queue behind each other instead of deadlocking.
    existing = {
        (a.customer_id, a.attribute_name): a
        for a in Attribute.objects.select_for_update()
        .filter(customer_id__in={i.customer_id for i in items}, attribute_name__in={i.name for i in items})
        .order_by("pk")
    }
    now = timezone.now()
    plan = []
    for item in items:
        attribute = existing.get((item.customer_id, item.name))
        if attribute is None:
            attribute = Attribute(
                customer_id=item.customer_id,
                attribute_name=item.name,
                attribute_value=item.value,
                created=now,
                last_modified=now,
            )
            history.mark(attribute, actor=actor, operation=operation)
            plan.append((item, attribute, Result.CREATED))
        elif attribute.attribute_value == item.value:
            plan.append((item, attribute, Result.UNCHANGED))
        else:
            history.mark(attribute, actor=actor, operation=operation, previous_value=attribute.attribute_value)
            attribute.attribute_value = item.value
            attribute.last_modified = now
            plan.append((item, attribute, Result.UPDATED))
    return plan


def _apply(plan: list[tuple[BulkItem, Attribute, Result]], *, actor) -> None:
    # Inserted in one global order for the same reason: each waits on a concurrent insert of the same key in turn.
    created = sorted(
        (attribute for _, attribute, result in plan if result is Result.CREATED),
        key=lambda attribute: (attribute.customer_id, attribute.attribute_name),
    )
    updated = [attribute for _, attribute, result in plan if result is Result.UPDATED]
    fastinsert.insert_objects(Attribute, created, ATTRIBUTE_COLUMNS)  # sets attribute_id, like bulk_create
    Attribute.objects.bulk_update(updated, ["attribute_value", "last_modified"], batch_size=500)
    history.record_bulk([(a, "+") for a in created] + [(a, "~") for a in updated], actor=actor)


def _require_update_for(actor, plan) -> None:
    updating = [item.index for item, _, result in plan if result is not Result.CREATED]
    if updating and actor is not None and not permissions.has_permission(actor, Action.UPDATE):
        shown = ", ".join(str(i) for i in updating[:10]) + (" …" if len(updating) > 10 else "")
        raise PermissionDenied(
            "You need the update_customer_attribute permission: items " + shown + " name existing attributes."
        )


def attribute_bulk_upsert(*, items: list[dict], actor) -> list[UpsertResult]:
    """Create-or-update many attributes (any customers) in one transaction: all or nothing.

    `items` are dicts with customer_id, attribute_name and attribute_value. Any invalid item raises
    BulkRejected listing every failing item, and nothing is written. Same permissions as
    attribute_upsert, per item. History rows are written in the same transaction.
    """
    authorize(actor, Action.CREATE)
    if len(items) > BULK_MAX_ITEMS:
        raise BulkRejected([ItemError(None, "non_field_errors", f"At most {BULK_MAX_ITEMS} items.")])
    rows = [
        (i, it.get("customer_id"), it.get("attribute_name"), it.get("attribute_value")) for i, it in enumerate(items)
    ]
    valid, errors = _validate_items(rows, seen={})
    if errors:
        raise BulkRejected(sorted(errors, key=lambda e: e.index))
    for attempt in range(_RACE_RETRIES):
        try:
            with transaction.atomic():
                plan = _plan(valid, actor=actor, operation="bulk")
                _require_update_for(actor, plan)
                _apply(plan, actor=actor)
        except IntegrityError:
            # A concurrent writer created one of our names after we looked: plan again (now an update).
            if attempt == _RACE_RETRIES - 1:
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
    *, rows: Iterable[Row], actor, dry_run: bool, chunk_size: int = 1000, progress=None, operation: str = "import"
) -> ImportReport:
    """Import (line, customer_id, name, value) rows, e.g. from CSV: all or nothing for the whole file.

    Needs create and update permission. Every row is checked; with any rejected row, or with `dry_run`,
    nothing is written and the report says what would have happened. `progress(n)` is called per chunk.
    """
    authorize(actor, Action.CREATE)
    authorize(actor, Action.UPDATE)
    report = ImportReport()
    seen: dict[tuple[int, str], int] = {}
    with transaction.atomic():
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                _import_chunk(chunk, seen, report, actor=actor, write=not dry_run, operation=operation)
                if progress is not None:
                    progress(len(chunk))
                chunk = []
        if chunk:
            _import_chunk(chunk, seen, report, actor=actor, write=not dry_run, operation=operation)
            if progress is not None:
                progress(len(chunk))
        if dry_run or report.rejected:
            transaction.set_rollback(True)
        else:
            report.written = True
    return report


def _import_chunk(chunk: list[Row], seen, report: ImportReport, *, actor, write: bool, operation: str) -> None:
    valid, errors = _validate_items(chunk, seen)
    report.rejected.extend(sorted(errors, key=lambda e: e.index))
    plan = _plan(valid, actor=actor, operation=operation)
    for _, _, result in plan:
        setattr(report, result.value, getattr(report, result.value) + 1)
    if write and not report.rejected:
        _apply(plan, actor=actor)
