"""Writes to the attribute registry: define a name, change its definition, delete it.

The Registry page, Django admin and the demo seed all call these. Each needs the registry permission
(`permissions.require_registry`; `actor=None` is trusted system code) and validates with the definition's
own rules (`AttributeDefinition.full_clean`, attributes/registry.py) before saving.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import permissions, sensitive
from ..models import Attribute, AttributeDefinition, AttributeNameUsage

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


def _check_sensitivity(definition: AttributeDefinition, *, was: bool, old_name: str | None) -> None:
    if definition.sensitive and not was and not sensitive.keys_configured():
        raise sensitive.KeysMissing("sensitive")
    if was and old_name is not None and old_name != definition.name:
        # The ciphertexts are bound to the name (associated data): unmark, rename, then mark again.
        raise ValidationError({"name": "A sensitive name cannot be renamed in the registry; unmark it first."})


def _start_job(definition: AttributeDefinition, *, was: bool, actor):
    """The job that encrypts (or decrypts) the name's stored values, when the flag changed and values exist."""
    if definition.sensitive == was:
        return None
    if definition.sensitive:  # the usage audit's stored most common values of the name go at once
        AttributeNameUsage.objects.filter(name=definition.name).update(top_values=[])
    has_values = Attribute.objects.filter(attribute_name=definition.name).exists()
    if definition.sensitive:  # history and events may hold plain values even when no customer has it now
        has_values = has_values or Attribute.history.filter(attribute_name=definition.name).exists()
    if not has_values:
        return None
    from .sensitivity import sensitivity_start

    return sensitivity_start(name=definition.name, sensitive_now=definition.sensitive, actor=actor)


def definition_create(*, actor, **fields) -> AttributeDefinition:
    """Define a name in the registry. Raises ValidationError for a taken name or settings that do not fit.

    Defining a name in use as `sensitive` starts the job that encrypts its values (`definition.job`)."""
    _authorize(actor)
    _check_fields(fields)
    definition = AttributeDefinition(**fields)
    definition.full_clean()
    _check_sensitivity(definition, was=False, old_name=None)
    with transaction.atomic():
        definition.save()
        definition.job = _start_job(definition, was=False, actor=actor)
    return definition


def definition_update(*, definition: AttributeDefinition, actor, **changes) -> AttributeDefinition:
    """Change any of a definition's FIELDS (the Registry page's form keeps the name fixed; admin may change it).

    Changing `sensitive` on a name in use starts the job that encrypts or decrypts its values (`definition.job`,
    None when there was nothing to do); the flag itself, and so every write and every output, changes at once."""
    _authorize(actor)
    _check_fields(changes)
    stored = AttributeDefinition.objects.filter(pk=definition.pk).values_list("sensitive", "name").first()
    was, old_name = stored if stored else (False, None)
    for name, value in changes.items():
        setattr(definition, name, value)
    definition.full_clean()
    _check_sensitivity(definition, was=was, old_name=old_name)
    with transaction.atomic():
        definition.save()
        definition.job = _start_job(definition, was=was, actor=actor)
    return definition


def definition_delete(*, definition: AttributeDefinition, actor) -> None:
    """Delete a definition. Customers' attributes of the name stay; their values are simply no longer checked.

    A sensitive definition is refused: its values would lose the flag that masks them. Unmark it first."""
    _authorize(actor)
    if AttributeDefinition.objects.filter(pk=definition.pk, sensitive=True).exists():
        raise ValidationError(
            {"sensitive": "This name is sensitive: unmark it first (its values are decrypted), then delete it."},
            code="sensitive",
        )
    with transaction.atomic():
        definition.delete()
