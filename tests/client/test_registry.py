"""The attribute registry through the client (`/crm/attribute/definition/…`, merged from the `sensitive` branch)."""

import pytest
from crm_attributes_client import NotFound, PermissionDenied, ValidationError

from attributes.models import AttributeDefinition
from tests.factories import make_customer

from .conftest import ALL_ATTRIBUTE_PERMS

REGISTRY = ("view_customer_attribute", "manage_attribute_registry")


def test_define_read_list_replace_and_undefine(crm):
    client = crm(*REGISTRY)

    created = client.define(
        "billing_method",
        description="How the customer is billed",
        value_type="choice",
        choices=["monthly", "quarterly"],
        dependent_systems=["billing", "provisioning"],
        protected=True,
    )
    client.define("api_key", sensitive=True)

    assert created.choices == ["monthly", "quarterly"]
    assert created.dependent_systems == ["billing", "provisioning"] and created.protected
    assert client.definition("billing_method").description == "How the customer is billed"
    assert [(d.name, d.sensitive) for d in client.definitions()] == [("api_key", True), ("billing_method", False)]

    replaced = client.define("billing_method", value_type="text")  # PUT replaces the whole definition
    assert (replaced.value_type, replaced.choices, replaced.protected) == ("text", [], False)

    with pytest.raises(ValidationError) as raised:  # a sensitive name is unmarked before it is deleted
        client.undefine("api_key")
    assert "unmark it first" in str(raised.value)
    client.define("api_key", sensitive=False)
    client.undefine("api_key")
    with pytest.raises(NotFound):
        client.definition("api_key")
    assert list(AttributeDefinition.objects.values_list("name", flat=True)) == ["billing_method"]


def test_a_defined_type_is_enforced_on_writes(crm):
    crm(*REGISTRY).define("vlan_id", value_type="integer")
    writer = crm(*ALL_ATTRIBUTE_PERMS)

    with pytest.raises(ValidationError) as raised:
        writer.upsert(make_customer().pk, "vlan_id", "one hundred")

    assert raised.value.field == "attribute_value"


def test_an_invalid_definition_is_a_validation_error_naming_the_field(crm):
    with pytest.raises(ValidationError) as raised:
        crm(*REGISTRY).define("tier", value_type="choice")  # a choice type without choices
    assert raised.value.field == "choices"
    assert not AttributeDefinition.objects.exists()


def test_reading_needs_view_and_writing_needs_the_registry_permission(crm):
    reader = crm("view_customer_attribute")
    with pytest.raises(PermissionDenied) as raised:
        reader.define("tier")
    assert "manage_attribute_registry" in str(raised.value)
    assert list(reader.definitions()) == []
    with pytest.raises(PermissionDenied):
        list(crm().definitions())
