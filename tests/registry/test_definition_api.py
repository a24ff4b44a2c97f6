"""The registry API: `/crm/attribute/definition/` and `/crm/attribute/definition/{name}`."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from attributes.models import AttributeDefinition

pytestmark = pytest.mark.django_db

FIELDS = {
    "name", "description", "value_type", "choices", "pattern", "example", "dependent_systems", "protected",
    "sensitive", "created", "last_modified",
}  # fmt: skip
REGISTRY = ("view_customer_attribute", "manage_attribute_registry")


def _define(name="billing_method", **fields):
    definition = AttributeDefinition(name=name, **fields)
    definition.full_clean()
    definition.save()
    return definition


def test_list_shows_every_definition_with_its_fields(api):
    _define("billing_method", value_type="choice", choices="monthly\nquarterly", protected=True)
    _define("api_key", sensitive=True)

    response = api("view_customer_attribute").get("/crm/attribute/definition/")

    assert response.status_code == 200
    body = response.json()
    assert [d["name"] for d in body] == ["api_key", "billing_method"]
    assert set(body[0]) == FIELDS
    assert body[0]["sensitive"] is True
    assert body[1]["protected"] is True and body[1]["sensitive"] is False
    assert response["X-Total-Count"] == "2"


def test_list_requires_view_permission(api):
    response = api().get("/crm/attribute/definition/")

    assert response.status_code == 403
    assert "view_customer_attribute" in response.json()["detail"]


def test_list_requires_authentication(anon):
    assert anon.get("/crm/attribute/definition/").status_code == 401


def test_list_rejects_unknown_parameters(api):
    response = api("view_customer_attribute").get("/crm/attribute/definition/", {"sensitive": "true"})

    assert response.status_code == 400
    assert "sensitive" in response.json()


def test_retrieve_by_name_and_404_for_unknown(api):
    _define("billing_method", description="How we bill")
    client = api("view_customer_attribute")

    assert client.get("/crm/attribute/definition/billing_method").json()["description"] == "How we bill"
    missing = client.get("/crm/attribute/definition/nope")
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_put_creates_then_replaces(api):
    client = api(*REGISTRY)

    created = client.put(
        "/crm/attribute/definition/support_tier",
        {"value_type": "choice", "choices": "basic\npremium", "description": "Support level"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["choices"] == "basic\npremium"

    replaced = client.put("/crm/attribute/definition/support_tier", {"description": "Tier"}, format="json")
    assert replaced.status_code == 200
    definition = AttributeDefinition.objects.get(name="support_tier")
    assert (definition.description, definition.value_type, definition.choices) == ("Tier", "text", "")


def test_put_requires_registry_permission(api):
    response = api("view_customer_attribute").put("/crm/attribute/definition/x", {}, format="json")

    assert response.status_code == 403
    assert "manage_attribute_registry" in response.json()["detail"]
    assert not AttributeDefinition.objects.exists()


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("Bad Name", {}, "name"),
        ("ok_name", {"value_type": "colour"}, "value_type"),
        ("ok_name", {"value_type": "choice"}, "choices"),
        ("ok_name", {"value_type": "regex", "pattern": "(a"}, "pattern"),
        ("ok_name", {"protected": "maybe"}, "protected"),
        ("ok_name", {"colour": "red"}, "colour"),
        ("ok_name", {"name": "other_name"}, "name"),
        ("ok_name", {"description": 12}, "description"),
    ],
)
def test_put_invalid_is_400_naming_the_field_and_changes_nothing(api, name, body, field):
    response = api(*REGISTRY).put(f"/crm/attribute/definition/{name}", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not AttributeDefinition.objects.exists()


def test_delete_removes_definition(api):
    _define("billing_method")
    client = api(*REGISTRY)

    response = client.delete("/crm/attribute/definition/billing_method")

    assert response.status_code == 200
    assert response.json() == {"result": "success"}
    assert not AttributeDefinition.objects.exists()
    assert client.delete("/crm/attribute/definition/billing_method").status_code == 404


def test_delete_requires_registry_permission(api):
    _define("billing_method")

    assert api("view_customer_attribute").delete("/crm/attribute/definition/billing_method").status_code == 403
    assert AttributeDefinition.objects.exists()


def test_registry_endpoints_are_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    detail = schema["paths"]["/crm/attribute/definition/{name}"]
    assert set(detail) >= {"get", "put", "delete"}
    assert "get" in schema["paths"]["/crm/attribute/definition/"]
    properties = schema["components"]["schemas"]["Definition"]["properties"]
    assert "sensitive" in properties and properties["sensitive"]["type"] == "boolean"
