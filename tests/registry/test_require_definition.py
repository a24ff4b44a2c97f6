"""ATTRIBUTES_REQUIRE_DEFINITION: deployments that want a closed vocabulary refuse names the registry lacks."""

import pytest
from django.test import override_settings
from django.urls import reverse

from attributes.models import Attribute
from tests.factories import make_customer

from .conftest import HTMX_MODAL, define

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_registry_required")]

UNDEFINED = "“undefined_name” is not in the attribute registry; ask an administrator to define it first."


@pytest.fixture
def _registry_required():
    with override_settings(ATTRIBUTES_REQUIRE_DEFINITION=True):
        yield


@pytest.fixture
def customer():
    return make_customer()


def test_add_form_refuses_an_undefined_name(client, editor, customer):
    response = client.post(
        reverse("attributes:create", args=[customer.pk]),
        {"attribute_name": "undefined_name", "attribute_value": "x"},
        headers=HTMX_MODAL,
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers
    assert UNDEFINED in response.content.decode().replace("&#x27;", "'")
    assert not Attribute.objects.exists()


def test_add_form_accepts_a_defined_name(client, editor, customer):
    define("support_tier", "choice", choices="gold\nsilver")

    response = client.post(
        reverse("attributes:create", args=[customer.pk]),
        {"attribute_name": "support_tier", "attribute_value": "gold"},
        headers=HTMX_MODAL,
    )

    assert response.headers.get("HX-Trigger") == '{"attributesChanged": null}'
    assert Attribute.objects.filter(attribute_name="support_tier", attribute_value="gold").exists()


def test_add_modal_tells_the_script_that_the_registry_is_required(client, editor, customer):
    response = client.get(reverse("attributes:create", args=[customer.pk]), headers=HTMX_MODAL)

    assert 'data-registry-required="true"' in response.content.decode()


def test_api_put_refuses_an_undefined_name(api_client, customer):
    response = api_client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "undefined_name", "attribute_value": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"attribute_name": [UNDEFINED]}
    assert not Attribute.objects.exists()


def test_api_put_accepts_a_defined_name(api_client, customer):
    define("external_crm_id", "regex", pattern=r"SF-[0-9]+")

    response = api_client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-1"},
        format="json",
    )

    assert response.status_code == 201


def test_api_rename_to_an_undefined_name_is_refused(api_client, customer):
    define("external_crm_id")
    created = api_client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-1"},
        format="json",
    ).json()

    response = api_client.patch(
        f"/crm/attribute/attribute_id/{created['attribute_id']}", {"attribute_name": "undefined_name"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"attribute_name": [UNDEFINED]}
    assert Attribute.objects.get().attribute_name == "external_crm_id"


def test_bulk_refuses_the_whole_batch_naming_each_undefined_item(api_client, customer):
    define("support_tier")
    items = [
        {"customer_id": customer.pk, "attribute_name": "support_tier", "attribute_value": "gold"},
        {"customer_id": customer.pk, "attribute_name": "undefined_name", "attribute_value": "x"},
    ]

    response = api_client.put("/crm/attribute/bulk", items, format="json")

    assert response.status_code == 400
    assert response.json() == {"errors": [{"index": 1, "field": "attribute_name", "message": UNDEFINED}]}
    assert not Attribute.objects.exists()  # all-or-nothing


def test_without_the_setting_undefined_names_are_free_form(api_client, customer):
    with override_settings(ATTRIBUTES_REQUIRE_DEFINITION=False):
        response = api_client.put(
            "/crm/attribute/",
            {"customer_id": customer.pk, "attribute_name": "undefined_name", "attribute_value": "x"},
            format="json",
        )

    assert response.status_code == 201
