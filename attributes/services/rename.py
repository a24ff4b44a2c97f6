"""Rename or merge an attribute name across every customer in one all-or-nothing operation."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import history, registry
from ..models import Attribute
from ..permissions import Action
from ..validators import validate_attribute_name
from .common import authorize, definitions_for

PREFER = ("old", "new")


@dataclass
class RenameReport:
    renamed: int = 0  # customers that had only the old name
    merged: int = 0  # customers that had both, with the same value (or a winner was chosen)
    conflicts: list[tuple[int, str, str]] = field(default_factory=list)  # (customer_id, old value, new value)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (customer_id, message) from the new name's rules
    written: bool = False


def attribute_rename_all(
    *, old: str, new: str, actor, prefer: str | None = None, dry_run: bool = False
) -> RenameReport:
    """Rename `old` to `new` on every customer; where a customer has both, merge them.

    A customer with both names and different values is a conflict: the whole operation is refused unless
    `prefer` says which value wins ("old" or "new"). Values moving to `new` must fit its registry entry.
    Needs update and delete permission. Every changed attribute gets its own history row.
    """
    authorize(actor, Action.UPDATE)
    authorize(actor, Action.DELETE)
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
    definition = definitions_for([new]).get(new)
    report = RenameReport()
    with transaction.atomic():
        olds = list(Attribute.objects.select_for_update().filter(attribute_name=old).order_by("customer_id"))
        news = {
            a.customer_id: a
            for a in Attribute.objects.select_for_update().filter(
                attribute_name=new, customer_id__in=[a.customer_id for a in olds]
            )
        }
        now = timezone.now()
        renamed, value_changed, deleted = [], [], []
        for attribute in olds:
            target = news.get(attribute.customer_id)
            if target is None:
                try:
                    registry.check_value(definition, new, attribute.attribute_value)
                except ValidationError as error:
                    report.invalid.append((attribute.customer_id, error.messages[0]))
                    continue
                history.mark(attribute, actor=actor, operation="rename_all", previous_name=old)
                attribute.attribute_name, attribute.last_modified = new, now
                renamed.append(attribute)
                report.renamed += 1
                continue
            if target.attribute_value != attribute.attribute_value:
                if prefer is None:
                    report.conflicts.append((attribute.customer_id, attribute.attribute_value, target.attribute_value))
                    continue
                if prefer == "old":
                    history.mark(target, actor=actor, operation="merge", previous_value=target.attribute_value)
                    target.attribute_value, target.last_modified = attribute.attribute_value, now
                    value_changed.append(target)
            history.mark(attribute, actor=actor, operation="merge")
            deleted.append(attribute)
            report.merged += 1
        if report.conflicts or report.invalid or dry_run:
            return report
        for attribute in deleted:  # one by one: simple-history records each delete with the marks set above
            attribute.delete()
        Attribute.objects.bulk_update(renamed, ["attribute_name", "last_modified"], batch_size=500)
        Attribute.objects.bulk_update(value_changed, ["attribute_value", "last_modified"], batch_size=500)
        history.record_bulk([(a, "~") for a in renamed] + [(a, "~") for a in value_changed], actor=actor)
        report.written = True
    return report
