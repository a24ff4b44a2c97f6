"""Every write to attributes: the web UI, the API, admin and management commands all call these.

Each function validates with the model's rules (`full_clean`), checks the actor's permission through
`attributes.permissions`, and leaves integrity to the database's unique constraint, so concurrent
writers of one name for one customer end with exactly one row and no error.

`actor` is the user doing the write; `None` means trusted system code (seeding, migrations).
"""

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer

from . import permissions
from .models import Attribute
from .permissions import Action
from .validators import validate_attribute_name, validate_attribute_value


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


def _authorize(actor, action: Action) -> None:
    if actor is not None:
        permissions.require(actor, action)


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


def attribute_upsert(*, customer: Customer, name: str, value: str, actor) -> UpsertResult:
    """Create the attribute `name` on `customer`, or update its value if the customer already has it.

    Needs create permission; when the name exists the write is an update and needs update permission too.
    """
    _authorize(actor, Action.CREATE)
    name, value = normalize_and_validate(name=name, value=value)
    with transaction.atomic():
        existing = Attribute.objects.select_for_update().filter(customer=customer, attribute_name=name).first()
        if existing is None:
            now = timezone.now()
            attribute = Attribute(
                customer=customer, attribute_name=name, attribute_value=value, created=now, last_modified=now
            )
            _full_clean(attribute)
            try:
                with transaction.atomic():  # a savepoint, so a lost race leaves the outer transaction usable
                    attribute.save(force_insert=True)
            except IntegrityError:
                # Another writer inserted the same name between our SELECT and INSERT: update theirs.
                existing = Attribute.objects.select_for_update().filter(customer=customer, attribute_name=name).first()
                if existing is None:
                    raise ValidationError({"customer_id": "This customer no longer exists."}) from None
            else:
                return UpsertResult(attribute, Result.CREATED)
        _authorize(actor, Action.UPDATE)
        if existing.attribute_value == value:
            return UpsertResult(existing, Result.UNCHANGED)
        existing.attribute_value = value
        existing.last_modified = timezone.now()
        _full_clean(existing)
        existing.save(update_fields=["attribute_value", "last_modified"])
        return UpsertResult(existing, Result.UPDATED)


def attribute_update(*, attribute: Attribute, actor, name: str | None = None, value: str | None = None) -> Attribute:
    """Change an attribute's value and/or rename it. Renaming onto a name the customer has is refused."""
    _authorize(actor, Action.UPDATE)
    new_name, new_value = normalize_and_validate(
        name=attribute.attribute_name if name is None else name,
        value=attribute.attribute_value if value is None else value,
    )
    with transaction.atomic():
        current = Attribute.objects.select_for_update().get(pk=attribute.pk)
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


def attribute_delete(*, attribute: Attribute, actor) -> None:
    """Delete one attribute."""
    _authorize(actor, Action.DELETE)
    with transaction.atomic():
        Attribute.objects.filter(pk=attribute.pk).delete()
