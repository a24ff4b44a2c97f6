"""What every write shares: results, permission checks, version preconditions and validation."""

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from jobs.models import Job

from .. import permissions, registry, sensitive
from ..models import Attribute, AttributeDefinition, NameReservation
from ..permissions import Action
from ..selectors import definition_for, definitions_for  # noqa: F401 (services import definitions_for from here)
from ..validators import validate_attribute_name, validate_attribute_value


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


def authorize(actor, action: Action) -> None:
    """`actor=None` is trusted system code (seeding, migrations); everyone else needs the permission."""
    if actor is not None:
        permissions.require(actor, action)


def authorize_upsert(actor, *, exists: bool) -> None:
    """A write by name: create permission, and update too when the name `exists` (`permissions.upsert_actions`)."""
    if actor is not None:
        permissions.require_upsert(actor, exists=exists)


def check_version(current: Attribute | None, if_match: Collection[str] | None) -> None:
    if if_match is None:
        return
    if current is None:
        raise PreconditionFailed(None, "The attribute does not exist, so it cannot match If-Match.")
    # Strong comparison (RFC 9110 13.1.1): tags as `django.utils.http.parse_etags` returns them keep their `W/`
    # prefix, so a weak tag never equals our strong ETag; "*" matches any existing attribute.
    tags = set(if_match)
    if "*" not in tags and current.etag not in tags:
        raise PreconditionFailed(current, "The attribute was changed by someone else since you read it.")


RETRY_AFTER_SECONDS = 5


class NameReserved(ValidationError):
    """A write of a name a rename job holds: refused, nothing written; the API answers 409 with `Retry-After`."""

    retry_after = RETRY_AFTER_SECONDS

    def __init__(self, names: list[str]):
        self.names = names
        shown = ", ".join(f"“{name}”" for name in names)
        super().__init__(
            f"{shown} {'is' if len(names) == 1 else 'are'} being renamed across customers right now; "
            "try again when the rename has finished.",
            code="being_renamed",
        )


def check_names_free(names: Collection[str]) -> None:
    """Raise NameReserved if a rename job holds any of `names`: call it AFTER the write, in its transaction.

    The protocol (READ COMMITTED): a rename job commits its reservations, then takes a brief SHARE lock on the
    attribute table, which waits for every writer already in flight. A writer that wrote before that lock has
    committed by the time the job reads its first chunk, so the chunk sees its row; a writer after it sees the
    reservation here and its transaction rolls back. One indexed query per write transaction.
    """
    reserved = list(
        NameReservation.objects.filter(name__in=set(names), job__status__in=Job.ACTIVE)
        .order_by("name")
        .values_list("name", flat=True)
    )
    if reserved:
        raise NameReserved(reserved)


def lost_deadlock(error: DatabaseError) -> bool:
    """The database broke a deadlock (or a serialisation failure) by aborting this transaction: retrying is safe.

    Writers lock in one global order, so this is rare (a fleet rename moving rows onto names others insert),
    and PostgreSQL's advice for it is to run the transaction again.
    """
    return getattr(error.__cause__, "sqlstate", None) in {"40P01", "40001"}


def _normalize(text) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"Expected text, got {type(text).__name__}.", code="invalid_type")
    return text.strip()


def normalize_and_validate(
    *, name, value, definitions: dict[str, AttributeDefinition] | None = None
) -> tuple[str, str]:
    """Trim both, check them against the rules and the registry; one ValidationError names every failing field.

    `definitions` (from `definitions_for`) saves the registry query when checking many items.
    """
    name, value, _definition = validate_with_definition(name=name, value=value, definitions=definitions)
    return name, value


def stored_value(definition: AttributeDefinition | None, *, customer_id: int, name: str, value: str) -> tuple[str, str]:
    """(attribute_value, value_ciphertext) to store for a valid `value`: for a sensitive name its index token and
    ciphertext (attributes/sensitive.py; KeysMissing, a 400, without keys), else the value itself and ""."""
    if definition is None or not definition.sensitive:
        return value, ""
    return sensitive.seal(customer_id, name, value)


def validate_with_definition(
    *, name, value, definitions: dict[str, AttributeDefinition] | None = None
) -> tuple[str, str, AttributeDefinition | None]:
    """`normalize_and_validate`, also returning the name's registry definition (None: undefined or invalid name)."""
    errors: dict[str, list[ValidationError]] = {}
    definition = None
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
    if "attribute_name" not in errors:
        name = cleaned["attribute_name"]
        definition = definitions.get(name) if definitions is not None else definition_for(name)
        try:
            registry.check_defined(definition, name)
        except ValidationError as error:
            errors["attribute_name"] = error.error_list
        if "attribute_value" not in errors:
            try:
                registry.check_value(definition, name, cleaned["attribute_value"])
            except ValidationError as error:
                errors["attribute_value"] = error.error_list
    if errors:
        raise ValidationError(errors)
    return cleaned["attribute_name"], cleaned["attribute_value"], definition


def full_clean(attribute: Attribute) -> None:
    # Uniqueness is left to the database constraint (a query here would race a concurrent writer),
    # and the customer is a fetched instance already.
    attribute.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
