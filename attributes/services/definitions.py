"""Writes to the attribute registry: define a name, change its definition, delete it.

The Registry page, Django admin and the demo seed all call these. Each needs the registry permission
(`permissions.require_registry`; `actor=None` is trusted system code) and validates with the definition's
own rules (`AttributeDefinition.full_clean`, attributes/registry.py) before saving.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import permissions
from ..models import AttributeDefinition

# What a caller may set; created and last_modified are the database's.
FIELDS = ("name", "description", "value_type", "choices", "pattern", "example", "dependent_systems", "protected",
          "sensitive")  # fmt: skip


def _authorize(actor) -> None:
    if actor is not None:
        permissions.require_registry(actor, permissions.REGISTRY_WRITE_MESSAGE)


def _check_fields(fields: dict) -> None:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValidationError({name: "Not a field of a definition." for name in unknown})


def definition_create(*, actor, **fields) -> AttributeDefinition:
    """Define a name in the registry. Raises ValidationError for a taken name or settings that do not fit."""
    _authorize(actor)
    _check_fields(fields)
    definition = AttributeDefinition(**fields)
    definition.full_clean()
    with transaction.atomic():
        definition.save()
    return definition


def definition_update(*, definition: AttributeDefinition, actor, **changes) -> AttributeDefinition:
    """Change any of a definition's FIELDS (the Registry page's form keeps the name fixed; admin may change it)."""
    _authorize(actor)
    _check_fields(changes)
    for name, value in changes.items():
        setattr(definition, name, value)
    definition.full_clean()
    with transaction.atomic():
        definition.save()
    return definition


def definition_delete(*, definition: AttributeDefinition, actor) -> None:
    """Delete a definition. Customers' attributes of the name stay; their values are simply no longer checked."""
    _authorize(actor)
    with transaction.atomic():
        definition.delete()
