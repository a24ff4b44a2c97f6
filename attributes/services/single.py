"""Writes of one attribute: create-or-update by name, update by id (including rename), delete, restore."""

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from customers.models import Customer

from .. import history, permissions, sensitive
from ..models import Attribute
from ..permissions import Action
from . import fastinsert, fastwrite
from .bulk import ATTRIBUTE_COLUMNS
from .common import (
    NameReserved,
    PreconditionFailed,
    Result,
    UpsertResult,
    authorize,
    authorize_upsert,
    check_names_free,
    check_version,
    definitions_for,
    full_clean,
    lost_deadlock,
    stored_value,
    validate_with_definition,
)


def _rename_conflict(name: str) -> ValidationError:
    return ValidationError(
        {
            "attribute_name": f"This customer already has an attribute named “{name}”. Choose another name, "
            "or edit that attribute instead."
        },
        code="unique",
    )


def _check_protected_removal(current: Attribute, *, actor, confirm: str | None, rename: bool = False) -> None:
    """A delete, or a rename away, of a protected name needs delete permission and the name typed as `confirm`."""
    name = current.attribute_name
    definition = definitions_for([name]).get(name)
    if definition is None or not definition.protected:
        return
    authorize(actor, Action.DELETE)
    if confirm != name:
        what = (
            "renaming it away removes it like a deletion; type its name to confirm the rename"
            if rename
            else ("type its name to confirm the deletion")
        )
        raise ValidationError({"confirm": f"“{name}” is protected: {what}."}, code="protected")


_INSERT_ATTEMPTS = 5
_DEADLOCK_ATTEMPTS = 3


def _locked(customer_id: int, name: str) -> Attribute | None:
    return Attribute.objects.select_for_update().filter(customer_id=customer_id, attribute_name=name).first()


NO_CUSTOMER = "No customer with this id."


def _upsert_in_one_statement(
    *, customer_id: int, name: str, value: str, ciphertext: str, actor, operation: str
) -> UpsertResult | None:
    """The common case in one statement (`fastwrite`); None when a concurrent writer makes it the general path's.
    `value` is what to store: a sensitive name's index token, with its `ciphertext` (see attributes/sensitive.py)."""
    now = timezone.now()
    full_clean(Attribute(customer_id=customer_id, attribute_name=name, attribute_value=value, created=now,
                         last_modified=now))  # fmt: skip
    may_update = actor is None or permissions.may_upsert(actor, exists=True)
    written = fastwrite.write(
        customer_id=customer_id, name=name, value=value, ciphertext=ciphertext, may_update=may_update, actor=actor,
        operation=operation,
    )  # fmt: skip
    match written.outcome:
        case fastwrite.Outcome.CREATED:
            return UpsertResult(written.attribute, Result.CREATED)
        case fastwrite.Outcome.UPDATED:
            return UpsertResult(written.attribute, Result.UPDATED)
        case fastwrite.Outcome.UNCHANGED:
            return UpsertResult(written.attribute, Result.UNCHANGED)
        case fastwrite.Outcome.UPDATE_REFUSED:
            authorize_upsert(actor, exists=True)  # raises PermissionDenied naming the update permission
        case fastwrite.Outcome.NO_CUSTOMER:
            raise ValidationError({"customer_id": NO_CUSTOMER})
        case fastwrite.Outcome.RESERVED:
            raise NameReserved([name])
    return None


def attribute_upsert(
    *,
    customer: Customer | int,
    name: str,
    value: str,
    actor,
    if_match: Collection[str] | None = None,
    create_only: bool = False,
    operation: str = "",
) -> UpsertResult:
    """Create the attribute `name` on `customer`, or update its value if the customer already has it.

    Needs create permission; when the name exists the write is an update and needs update permission too.
    `create_only` (HTTP `If-None-Match: *`) refuses to touch an existing attribute. `customer` may be given by id
    (the API does): a missing customer is a ValidationError on `customer_id`.

    Without preconditions the write is one statement (`fastwrite`: the API's hot path); with them, or when a
    concurrent writer got in between, the transaction below decides.
    """
    authorize_upsert(actor, exists=False)
    name, value, definition = validate_with_definition(name=name, value=value)
    customer_id = customer if isinstance(customer, int) else customer.pk
    # From here on `value` is what is stored: for a sensitive name, its index token (the plain value goes no further).
    value, ciphertext = stored_value(definition, customer_id=customer_id, name=name, value=value)
    if if_match is None and not create_only:
        done = _upsert_in_one_statement(
            customer_id=customer_id, name=name, value=value, ciphertext=ciphertext, actor=actor, operation=operation
        )
        if done is not None:
            return done
    if isinstance(customer, int):
        customer = Customer.objects.filter(pk=customer).first()
        if customer is None:
            raise ValidationError({"customer_id": NO_CUSTOMER})
    with transaction.atomic():
        existing = _locked(customer.pk, name)
        for _attempt in range(_INSERT_ATTEMPTS):
            if existing is not None:
                break
            check_version(None, if_match)
            now = timezone.now()
            attribute = Attribute(
                customer=customer, attribute_name=name, attribute_value=value, value_ciphertext=ciphertext,
                created=now, last_modified=now,
            )  # fmt: skip
            full_clean(attribute)
            history.mark(attribute, actor=actor, operation=operation or "create")
            try:
                with transaction.atomic():  # a savepoint, so a lost race leaves the outer transaction usable
                    attribute.save(force_insert=True)
            except IntegrityError:
                # Another writer inserted the same name between our SELECT and INSERT: theirs is now ours to
                # update. If it was deleted again before we could lock it, the name is free: insert once more.
                existing = _locked(customer.pk, name)
                if existing is None and not Customer.objects.filter(pk=customer.pk).exists():
                    raise ValidationError({"customer_id": "This customer no longer exists."}) from None
            else:
                check_names_free([name])  # after the write: see check_names_free
                return UpsertResult(attribute, Result.CREATED)
        if existing is None:  # the name was taken and freed again on every attempt: a storm of writers
            raise ValidationError({"attribute_name": "Too many concurrent writes of this name; try again."})
        if create_only:
            raise PreconditionFailed(existing, f"The customer already has an attribute named “{name}”.")
        authorize_upsert(actor, exists=True)  # first: a refused writer learns nothing about the stored version
        check_version(existing, if_match)
        if existing.attribute_value == value:
            return UpsertResult(existing, Result.UNCHANGED)
        history.mark(existing, actor=actor, operation=operation or "update", previous_value=existing.attribute_value)
        existing.attribute_value, existing.value_ciphertext = value, ciphertext
        existing.last_modified = timezone.now()
        full_clean(existing)
        existing.save(update_fields=["attribute_value", "value_ciphertext", "last_modified"])
        check_names_free([name])
        return UpsertResult(existing, Result.UPDATED)


def attribute_update(
    *,
    attribute: Attribute,
    actor,
    name: str | None = None,
    value: str | None = None,
    if_match: Collection[str] | None = None,
    confirm: str | None = None,
) -> Attribute:
    """Change an attribute's value and/or rename it. Renaming onto a name the customer has is refused.

    Renaming removes the old name for every integration that reads it, so renaming away from a name the registry
    marks `protected` is treated as its deletion: it needs delete permission too and `confirm` equal to the old
    name, exactly as `attribute_delete` does. Raises Attribute.DoesNotExist if it was deleted meanwhile.
    """
    authorize(actor, Action.UPDATE)
    new_name, new_value, definition = validate_with_definition(
        name=attribute.attribute_name if name is None else name,
        # A rename alone keeps the value: a sensitive one decrypted here, re-encrypted for its new name below.
        value=sensitive.plain_value(attribute) if value is None else value,
    )
    new_value, ciphertext = stored_value(definition, customer_id=attribute.customer_id, name=new_name, value=new_value)
    for attempt in range(_DEADLOCK_ATTEMPTS):
        try:
            return _update_locked(
                snapshot=attribute, name=new_name, value=new_value, ciphertext=ciphertext, actor=actor,
                if_match=if_match, confirm=confirm,
            )  # fmt: skip
        except OperationalError as error:
            # A rename writes a new (customer, name) key while holding the row: a bulk writer that has just
            # inserted that key and now waits for our row is a deadlock the database breaks by aborting one side.
            if not lost_deadlock(error) or attempt == _DEADLOCK_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _update_locked(
    *,
    snapshot: Attribute,
    name: str,
    value: str,
    ciphertext: str,
    actor,
    if_match: Collection[str] | None,
    confirm: str | None,
) -> Attribute:
    new_name, new_value = name, value
    with transaction.atomic():
        reserved = _reserve_if_first(snapshot=snapshot, name=new_name, value=new_value)
        current = Attribute.objects.select_for_update().get(pk=snapshot.pk)
        if reserved is not None and reserved.customer_id != current.customer_id:  # moved meanwhile: not ours
            _release(reserved)
            reserved = None
        check_version(current, if_match)
        if current.attribute_name == new_name and current.attribute_value == new_value:
            return current
        if new_name != current.attribute_name:
            _check_protected_removal(current, actor=actor, confirm=confirm, rename=True)
        if (
            new_name != current.attribute_name
            and Attribute.objects.filter(customer_id=current.customer_id, attribute_name=new_name)
            .exclude(pk=getattr(reserved, "pk", None))
            .exists()
        ):
            raise _rename_conflict(new_name)
        if reserved is not None:
            _release(reserved)  # the key stays ours (our uncommitted delete) until the rename below takes it
        history.mark(
            current,
            actor=actor,
            operation="rename" if new_name != current.attribute_name else "update",
            previous_name=current.attribute_name if new_name != current.attribute_name else "",
            previous_value=current.attribute_value if new_value != current.attribute_value else "",
        )
        old_name = current.attribute_name
        current.attribute_name = new_name
        current.attribute_value, current.value_ciphertext = new_value, ciphertext
        current.last_modified = timezone.now()
        full_clean(current)
        try:
            with transaction.atomic():
                current.save(update_fields=["attribute_name", "attribute_value", "value_ciphertext", "last_modified"])
        except IntegrityError:
            raise _rename_conflict(new_name) from None
        check_names_free([old_name, new_name])
    return current


def _reserve_if_first(*, snapshot: Attribute, name: str, value: str) -> Attribute | None:
    """Take the key (customer, `name`) before the row, when it sorts first: every writer of many keys (bulk,
    import) takes them in (customer, name) order, so a rename holding its row while it waits for a new name
    that sorts earlier would deadlock with a bulk writer of both. A placeholder row holds the key; the caller
    releases it just before renaming onto it. None when the name sorts after the old one, or is taken.
    `snapshot` is the caller's copy of the attribute (no query); the caller re-checks it once the row is locked."""
    if not name < snapshot.attribute_name:
        return None
    now = timezone.now()
    placeholder = Attribute(
        customer_id=snapshot.customer_id, attribute_name=name, attribute_value=value, created=now, last_modified=now
    )
    inserted = fastinsert.insert_or_lock(Attribute, [placeholder], ATTRIBUTE_COLUMNS, ["customer", "attribute_name"])
    return inserted[0] if inserted else None  # taken: locked now, and the rename is refused as a conflict


def _release(placeholder: Attribute) -> None:
    """Delete a placeholder without history or signals: it never was an attribute anyone saw."""
    Attribute.objects.filter(pk=placeholder.pk)._raw_delete(Attribute.objects.db)


def attribute_delete(
    *, attribute: Attribute, actor, if_match: Collection[str] | None = None, confirm: str | None = None
) -> None:
    """Delete one attribute. Raises Attribute.DoesNotExist if it is already gone.

    A name the registry marks `protected` needs `confirm` equal to the name.
    """
    authorize(actor, Action.DELETE)
    with transaction.atomic():
        current = Attribute.objects.select_for_update().get(pk=attribute.pk)
        check_version(current, if_match)
        _check_protected_removal(current, actor=actor, confirm=confirm)
        history.mark(current, actor=actor, operation="delete")
        name = current.attribute_name
        current.delete()
        check_names_free([name])


def attribute_restore(*, history_id: int, customer_id: int | None = None, actor) -> UpsertResult:
    """Bring back the name and value a history row recorded (a deleted attribute, or an earlier value).

    Goes through attribute_upsert, so permissions, validation and history apply as to any write.
    """
    record = Attribute.history.filter(history_id=history_id)
    if customer_id is not None:
        record = record.filter(customer_id=customer_id)
    record = record.get()  # DoesNotExist -> 404 in the views
    if sensitive.is_token(record.attribute_value):
        raise ValidationError(
            "A sensitive value is not kept in history (only that it changed), so it cannot be restored: "
            "set the value again instead.",
            code="sensitive",
        )
    customer = Customer.objects.get(pk=record.customer_id)
    return attribute_upsert(
        customer=customer,
        name=record.attribute_name,
        value=record.attribute_value,
        actor=actor,
        operation="restore",
    )
