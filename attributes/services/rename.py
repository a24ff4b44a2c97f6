"""Rename or merge an attribute name across every customer in one all-or-nothing operation."""

import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from .. import history, permissions, registry
from ..models import Attribute
from ..validators import validate_attribute_name
from .common import definitions_for, lost_deadlock

PREFER = ("old", "new")


@dataclass
class RenameReport:
    renamed: int = 0  # customers that had only the old name
    merged: int = 0  # customers that had both, with the same value (or a winner was chosen)
    conflicts: list[tuple[int, str, str]] = field(default_factory=list)  # (customer_id, old value, new value)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (customer_id, message) from the new name's rules
    written: bool = False


_RACE_RETRIES = 5


def _lock_names(names: list[str]) -> None:
    """Serialise fleet renames that share a name (PostgreSQL; SQLite runs one write transaction at a time).

    A transaction-scoped advisory lock per name, taken in one order, so x->y and y->x queue instead of deadlocking.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted(
        int.from_bytes(hashlib.sha256(f"rename:{n}".encode()).digest()[:8], "big", signed=True) for n in names
    )
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def attribute_rename_all(
    *,
    old: str,
    new: str,
    actor,
    prefer: str | None = None,
    dry_run: bool = False,
    confirm: str | None = None,
) -> RenameReport:
    """Rename `old` to `new` on every customer; where a customer has both, merge them.

    A customer with both names and different values is a conflict: the whole operation is refused unless
    `prefer` says which value wins ("old" or "new"). Values moving to `new` must fit its registry entry.
    Needs the registry permission, update and delete (`permissions.require_rename_all`; `actor=None` is trusted
    system code); renaming a name the registry marks `protected` away deletes it for
    every integration, so like a delete it needs `confirm` equal to the old name (a dry run does not).
    Every changed attribute gets its own history row.
    """
    if actor is not None:
        permissions.require_rename_all(actor)
    old, new = old.strip(), new.strip()
    for param, name in (("old", old), ("new", new)):
        try:
            validate_attribute_name(name)
        except ValidationError as error:
            raise ValidationError({param: error.messages}) from None
    if old == new:
        raise ValidationError({"new": "The new name is the same as the old one."})
    if prefer not in (None, *PREFER):
        raise ValidationError({"prefer": "Use old or new."})
    definitions = definitions_for([old, new])
    if not dry_run and old in definitions and definitions[old].protected and confirm != old:
        raise ValidationError(
            {"confirm": f"“{old}” is protected: renaming it removes it from every customer; type its name to confirm."},
            code="protected",
        )
    for _attempt in range(_RACE_RETRIES):
        try:
            with transaction.atomic():
                return _rename(old=old, new=new, actor=actor, prefer=prefer, dry_run=dry_run, definitions=definitions)
        except IntegrityError:
            # `new` kept appearing and disappearing on a customer while we moved rows onto it (see _move_one):
            # start again from a fresh look, where those rows are locked or gone.
            continue
        except OperationalError as error:
            # That writer (a bulk write holding its new row) may wait for one of ours: the database ends the
            # deadlock by aborting one side, and the side it aborts runs again.
            if not lost_deadlock(error):
                raise
    raise ValidationError(
        {"new": f"“{new}” is being added to these customers right now by other writes; try the rename again."},
        code="busy",
    )


@dataclass
class _Changes:
    renamed: list = field(default_factory=list)
    value_changed: list = field(default_factory=list)
    deleted: list = field(default_factory=list)


def _merge(attribute: Attribute, target: Attribute, *, prefer, actor, now, report: RenameReport, changes) -> None:
    """`attribute` (old name) goes into `target` (new name) of the same customer, by the conflict rules."""
    if target.attribute_value != attribute.attribute_value:
        if prefer is None:
            report.conflicts.append((attribute.customer_id, attribute.attribute_value, target.attribute_value))
            return
        if prefer == "old":
            history.mark(target, actor=actor, operation="merge", previous_value=target.attribute_value)
            target.attribute_value, target.last_modified = attribute.attribute_value, now
            changes.value_changed.append(target)
    history.mark(attribute, actor=actor, operation="merge")
    changes.deleted.append(attribute)
    report.merged += 1


def _rename(*, old: str, new: str, actor, prefer: str | None, dry_run: bool, definitions) -> RenameReport:
    definition = definitions.get(new)
    report = RenameReport()
    _lock_names([old, new])
    # Both names' rows of every customer with `old`, locked in one statement in the global order of all
    # many-row writes (customer_id, attribute_name), never name by name.
    locked = list(
        Attribute.objects.select_for_update()
        .filter(
            attribute_name__in=[old, new],
            customer_id__in=Attribute.objects.filter(attribute_name=old).values("customer_id"),
        )
        .order_by("customer_id", "attribute_name")
    )
    olds = [a for a in locked if a.attribute_name == old]
    news = {a.customer_id: a for a in locked if a.attribute_name == new}
    now = timezone.now()
    changes = _Changes()
    for attribute in olds:
        target = news.get(attribute.customer_id)
        if target is not None:
            _merge(attribute, target, prefer=prefer, actor=actor, now=now, report=report, changes=changes)
            continue
        try:
            registry.check_value(definition, new, attribute.attribute_value)
        except ValidationError as error:
            report.invalid.append((attribute.customer_id, error.messages[0]))
            continue
        changes.renamed.append(attribute)
        report.renamed += 1
    if report.conflicts or report.invalid or dry_run:
        return report
    renamed = _move(changes, old=old, new=new, prefer=prefer, actor=actor, now=now, report=report)
    if report.conflicts:  # a target created meanwhile holds a different value: refused like any conflict
        transaction.set_rollback(True)
        return report
    for attribute in changes.deleted:  # one by one: simple-history records each delete with the marks set
        attribute.delete()
    Attribute.objects.bulk_update(changes.value_changed, ["attribute_value", "last_modified"], batch_size=500)
    history.record_bulk([(a, "~") for a in renamed] + [(a, "~") for a in changes.value_changed], actor=actor)
    report.written = True
    return report


def _move(changes: _Changes, *, old: str, new: str, prefer, actor, now, report: RenameReport) -> list[Attribute]:
    """Rename the planned rows to `new`, 500 to a statement; returns those renamed.

    A customer may have got `new` after the rows were locked (a PUT creating it: there was no row to lock).
    The statement then fails on the unique constraint, once that writer commits; the batch is retried row by
    row, and a row whose target now exists is merged into it (locked first) by the usual rules.
    """
    moved = []
    for start in range(0, len(changes.renamed), 500):
        batch = changes.renamed[start : start + 500]
        for attribute in batch:
            attribute.attribute_name, attribute.last_modified = new, now
        try:
            with transaction.atomic():
                Attribute.objects.bulk_update(batch, ["attribute_name", "last_modified"])
        except IntegrityError:
            pass
        else:
            moved.extend(batch)
            continue
        for attribute in batch:
            if _move_one(attribute, new=new, now=now):
                moved.append(attribute)
                continue
            attribute.attribute_name = old  # it stays old until it is deleted in the merge
            report.renamed -= 1
            target = Attribute.objects.select_for_update().get(customer_id=attribute.customer_id, attribute_name=new)
            _merge(attribute, target, prefer=prefer, actor=actor, now=now, report=report, changes=changes)
    for attribute in moved:
        history.mark(attribute, actor=actor, operation="rename_all", previous_name=old)
    return moved


def _move_one(attribute: Attribute, *, new: str, now) -> bool:
    """Rename one row; False when the customer has `new` now (then locked by us: it stays until we commit)."""
    for _attempt in range(_RACE_RETRIES):
        try:
            with transaction.atomic():
                Attribute.objects.filter(pk=attribute.pk).update(attribute_name=new, last_modified=now)
        except IntegrityError:
            # Lock the row in the way; if it was deleted meanwhile, the name is free again: try once more.
            if Attribute.objects.select_for_update().filter(customer_id=attribute.customer_id, attribute_name=new):
                return False
        else:
            return True
    raise IntegrityError(f"“{new}” keeps appearing and disappearing on customer {attribute.customer_id}")
