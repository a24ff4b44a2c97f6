"""Every write to attributes: the web UI, the API, admin, imports and management commands all call these.

Each function validates with the model's rules (`full_clean`), checks the actor's permission through
`attributes.permissions`, and leaves integrity to the database's unique constraint, so concurrent
writers of one name for one customer end with exactly one row and no error.

`actor` is the user doing the write; `None` means trusted system code (seeding, migrations).
`if_match` carries HTTP-style entity tags (`Attribute.etag`, or "*") for lost-update protection: a
write whose expected version is stale raises `PreconditionFailed` and changes nothing.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer

from . import permissions
from .models import Attribute
from .permissions import Action
from .validators import validate_attribute_name, validate_attribute_value

BULK_MAX_ITEMS = 1000
_RACE_RETRIES = 3


class Result(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class UpsertResult:
    attribute: Attribute
    result: Result

    @property
    def created(self) -> bool:
        return self.result is Result.CREATED


class PreconditionFailed(Exception):
    """The caller's expected version (If-Match / If-None-Match) does not match; `current` is what is stored."""

    def __init__(self, current: Attribute | None, message: str):
        super().__init__(message)
        self.current = current


def _authorize(actor, action: Action) -> None:
    if actor is not None:
        permissions.require(actor, action)


def _check_version(current: Attribute | None, if_match: Collection[str] | None) -> None:
    if if_match is None:
        return
    if current is None:
        raise PreconditionFailed(None, "The attribute does not exist, so it cannot match If-Match.")
    tags = {tag.strip().removeprefix("W/") for tag in if_match}
    if "*" not in tags and current.etag not in tags:
        raise PreconditionFailed(current, "The attribute was changed by someone else since you read it.")


def _normalize(text) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"Expected text, got {type(text).__name__}.", code="invalid_type")
    return text.strip()


def normalize_and_validate(*, name, value) -> tuple[str, str]:
    """Trim both, then check them; raise one ValidationError naming every failing field."""
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}
    for field, raw, validator in (
        ("attribute_name", name, validate_attribute_name),
        ("attribute_value", value, validate_attribute_value),
    ):
        try:
            cleaned[field] = _normalize(raw)
            validator(cleaned[field])
        except ValidationError as error:
            errors[field] = error.error_list
    if errors:
        raise ValidationError(errors)
    return cleaned["attribute_name"], cleaned["attribute_value"]


def _full_clean(attribute: Attribute) -> None:
    # Uniqueness is left to the database constraint (a query here would race a concurrent writer),
    # and the customer is a fetched instance already.
    attribute.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)


def _rename_conflict(name: str) -> ValidationError:
    return ValidationError(
        {
            "attribute_name": f"This customer already has an attribute named “{name}”. Choose another name, "
            "or edit that attribute instead."
        },
        code="unique",
    )


def _locked(customer_id: int, name: str) -> Attribute | None:
    return Attribute.objects.select_for_update().filter(customer_id=customer_id, attribute_name=name).first()


def attribute_upsert(
    *,
    customer: Customer,
    name: str,
    value: str,
    actor,
    if_match: Collection[str] | None = None,
    create_only: bool = False,
) -> UpsertResult:
    """Create the attribute `name` on `customer`, or update its value if the customer already has it.

    Needs create permission; when the name exists the write is an update and needs update permission too.
    `create_only` (HTTP `If-None-Match: *`) refuses to touch an existing attribute.
    """
    _authorize(actor, Action.CREATE)
    name, value = normalize_and_validate(name=name, value=value)
    with transaction.atomic():
        existing = _locked(customer.pk, name)
        if existing is None:
            _check_version(None, if_match)
            now = timezone.now()
            attribute = Attribute(
                customer=customer, attribute_name=name, attribute_value=value, created=now, last_modified=now
            )
            _full_clean(attribute)
            try:
                with transaction.atomic():  # a savepoint, so a lost race leaves the outer transaction usable
                    attribute.save(force_insert=True)
            except IntegrityError:
                # Another writer inserted the same name between our SELECT and INSERT: theirs is now ours to update.
                existing = _locked(customer.pk, name)
                if existing is None:
                    raise ValidationError({"customer_id": "This customer no longer exists."}) from None
            else:
                return UpsertResult(attribute, Result.CREATED)
        if create_only:
            raise PreconditionFailed(existing, f"The customer already has an attribute named “{name}”.")
        _check_version(existing, if_match)
        _authorize(actor, Action.UPDATE)
        if existing.attribute_value == value:
            return UpsertResult(existing, Result.UNCHANGED)
        existing.attribute_value = value
        existing.last_modified = timezone.now()
        _full_clean(existing)
        existing.save(update_fields=["attribute_value", "last_modified"])
        return UpsertResult(existing, Result.UPDATED)


def attribute_update(
    *,
    attribute: Attribute,
    actor,
    name: str | None = None,
    value: str | None = None,
    if_match: Collection[str] | None = None,
) -> Attribute:
    """Change an attribute's value and/or rename it. Renaming onto a name the customer has is refused.

    Raises Attribute.DoesNotExist if it was deleted meanwhile.
    """
    _authorize(actor, Action.UPDATE)
    new_name, new_value = normalize_and_validate(
        name=attribute.attribute_name if name is None else name,
        value=attribute.attribute_value if value is None else value,
    )
    with transaction.atomic():
        current = Attribute.objects.select_for_update().get(pk=attribute.pk)
        _check_version(current, if_match)
        if current.attribute_name == new_name and current.attribute_value == new_value:
            return current
        if (
            new_name != current.attribute_name
            and Attribute.objects.filter(customer_id=current.customer_id, attribute_name=new_name).exists()
        ):
            raise _rename_conflict(new_name)
        current.attribute_name = new_name
        current.attribute_value = new_value
        current.last_modified = timezone.now()
        _full_clean(current)
        try:
            with transaction.atomic():
                current.save(update_fields=["attribute_name", "attribute_value", "last_modified"])
        except IntegrityError:
            raise _rename_conflict(new_name) from None
    return current


def attribute_delete(*, attribute: Attribute, actor, if_match: Collection[str] | None = None) -> None:
    """Delete one attribute. Raises Attribute.DoesNotExist if it is already gone."""
    _authorize(actor, Action.DELETE)
    with transaction.atomic():
        current = Attribute.objects.select_for_update().get(pk=attribute.pk)
        _check_version(current, if_match)
        current.delete()


# --- Many at once: the bulk API and CSV import ------------------------------------------------------------


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


def _validate_items(
    raw_items: Iterable[tuple[int, object, object, object]], seen: dict[tuple[int, str], int]
) -> tuple[list[BulkItem], list[ItemError]]:
    """Normalize and check (index, customer_id, name, value) rows; `seen` spots a name repeated for a customer."""
    valid, errors = [], []
    for index, customer_id, name, value in raw_items:
        if isinstance(customer_id, bool) or not isinstance(customer_id, int) or not 0 < customer_id < 2**63:
            errors.append(ItemError(index, "customer_id", "Must be a customer id (a positive integer)."))
            continue
        try:
            name, value = normalize_and_validate(name=name, value=value)
        except ValidationError as error:
            errors.extend(ItemError(index, field, " ".join(msgs)) for field, msgs in error.message_dict.items())
            continue
        key = (customer_id, name)
        if key in seen:
            errors.append(
                ItemError(
                    index, "attribute_name", f"“{name}” is repeated for customer {customer_id} (item {seen[key]})."
                )
            )
            continue
        seen[key] = index
        valid.append(BulkItem(index, customer_id, name, value))
    known = set(
        Customer.objects.filter(customer_id__in={item.customer_id for item in valid}).values_list("pk", flat=True)
    )
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


def _plan(items: list[BulkItem]) -> list[tuple[BulkItem, Attribute, Result]]:
    """Lock the rows the items touch and decide, per item, whether it creates, updates or changes nothing."""
    existing = {
        (a.customer_id, a.attribute_name): a
        for a in Attribute.objects.select_for_update().filter(
            customer_id__in={i.customer_id for i in items}, attribute_name__in={i.name for i in items}
        )
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
            plan.append((item, attribute, Result.CREATED))
        elif attribute.attribute_value == item.value:
            plan.append((item, attribute, Result.UNCHANGED))
        else:
            attribute.attribute_value = item.value
            attribute.last_modified = now
            plan.append((item, attribute, Result.UPDATED))
    return plan


def _apply(plan: list[tuple[BulkItem, Attribute, Result]]) -> None:
    created = [attribute for _, attribute, result in plan if result is Result.CREATED]
    updated = [attribute for _, attribute, result in plan if result is Result.UPDATED]
    Attribute.objects.bulk_create(created, batch_size=500)
    Attribute.objects.bulk_update(updated, ["attribute_value", "last_modified"], batch_size=500)


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
    BulkRejected listing every failing item, and nothing is written. Costs a fixed handful of queries
    however many items there are. Same permissions as attribute_upsert, per item.
    """
    _authorize(actor, Action.CREATE)
    if len(items) > BULK_MAX_ITEMS:
        raise BulkRejected([ItemError(BULK_MAX_ITEMS, "non_field_errors", f"At most {BULK_MAX_ITEMS} items.")])
    rows = [
        (index, item.get("customer_id"), item.get("attribute_name"), item.get("attribute_value"))
        for index, item in enumerate(items)
    ]
    valid, errors = _validate_items(rows, seen={})
    if errors:
        raise BulkRejected(sorted(errors, key=lambda e: e.index))
    for attempt in range(_RACE_RETRIES):
        try:
            with transaction.atomic():
                plan = _plan(valid)
                _require_update_for(actor, plan)
                _apply(plan)
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
    rejected: list[ItemError] | None = None
    written: bool = False

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected or [])


def attribute_import(
    *, rows: Iterable[tuple[int, object, object, object]], actor, dry_run: bool, chunk_size: int = 1000, progress=None
) -> ImportReport:
    """Import (index, customer_id, name, value) rows, e.g. from CSV: all or nothing for the whole file.

    Needs create and update permission. Every row is checked; with any rejected row, or with `dry_run`,
    nothing is written and the report says what would have happened. `progress(n)` is called per chunk.
    """
    _authorize(actor, Action.CREATE)
    _authorize(actor, Action.UPDATE)
    report = ImportReport(rejected=[])
    seen: dict[tuple[int, str], int] = {}
    with transaction.atomic():
        chunk: list = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                _import_chunk(chunk, seen, report, write=not dry_run and not report.rejected, progress=progress)
                chunk = []
        if chunk:
            _import_chunk(chunk, seen, report, write=not dry_run and not report.rejected, progress=progress)
        if dry_run or report.rejected:
            transaction.set_rollback(True)
        else:
            report.written = True
    return report


def _import_chunk(chunk, seen, report: ImportReport, *, write: bool, progress) -> None:
    valid, errors = _validate_items(chunk, seen)
    report.rejected.extend(sorted(errors, key=lambda e: e.index))
    plan = _plan(valid)
    for _, _, result in plan:
        setattr(report, result.value, getattr(report, result.value) + 1)
    if write and not errors:
        _apply(plan)
    if progress is not None:
        progress(len(chunk))
