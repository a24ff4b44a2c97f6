"""Deleting a protected name from a customer needs its name typed (UI) or `?confirm=<name>` (API)."""

import html

import pytest
from django.urls import reverse

from attributes.models import Attribute
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import HTMX_MODAL, define

pytestmark = pytest.mark.django_db

CONFIRM_ERROR = "“billing_account_id” is protected: type its name to confirm the deletion."


@pytest.fixture
def protected():
    define("billing_account_id", "regex", pattern="BA-[0-9]+", dependent_systems="billing, RADIUS", protected=True)
    return make_attribute(make_customer(customer_name="Acme Fiber Ltd"), "billing_account_id", "BA-1")


@pytest.fixture
def unprotected():
    define("support_notes", dependent_systems="helpdesk")
    return make_attribute(make_customer(), "support_notes", "call first")


def delete_url(attribute) -> str:
    return reverse("attributes:delete", args=[attribute.customer_id, attribute.pk])


# --- web UI -------------------------------------------------------------------------------------------------


def test_delete_modal_of_a_protected_name_asks_for_the_name_and_names_dependants(client, editor, protected):
    response = client.get(delete_url(protected), headers=HTMX_MODAL)

    page = html.unescape(response.content.decode())
    assert 'name="confirm"' in page
    assert "is protected. Type its name to confirm:" in page
    assert "Used by: billing, RADIUS." in page


def test_delete_modal_of_an_unprotected_name_asks_nothing_but_still_names_dependants(client, editor, unprotected):
    page = client.get(delete_url(unprotected), headers=HTMX_MODAL).content.decode()

    assert 'name="confirm"' not in page
    assert "Used by: helpdesk." in page


def test_delete_modal_of_an_undefined_name_has_no_registry_notes(client, editor):
    attribute = make_attribute(make_customer(), "free_note", "x")

    page = client.get(delete_url(attribute), headers=HTMX_MODAL).content.decode()

    assert 'name="confirm"' not in page
    assert "Used by" not in page


@pytest.mark.parametrize("typed", [None, "", "billing_account", "BILLING_ACCOUNT_ID", " billing_account_id"])
def test_delete_without_the_right_confirmation_rerenders_the_modal_with_the_error(client, editor, protected, typed):
    data = {"version": protected.etag} if typed is None else {"version": protected.etag, "confirm": typed}

    response = client.post(delete_url(protected), data, headers=HTMX_MODAL)

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers  # the modal stays open
    page = html.unescape(response.content.decode())
    assert CONFIRM_ERROR in page
    assert 'aria-invalid="true"' in page
    assert Attribute.objects.filter(pk=protected.pk).exists()


def test_delete_with_the_typed_name_deletes(client, editor, protected):
    response = client.post(
        delete_url(protected), {"version": protected.etag, "confirm": "billing_account_id"}, headers=HTMX_MODAL
    )

    assert response.headers.get("HX-Trigger") == '{"attributesChanged": null}'
    assert not Attribute.objects.filter(pk=protected.pk).exists()


def test_plain_page_delete_without_confirmation_shows_the_error_on_the_page(client, editor, protected):
    response = client.post(delete_url(protected), {"version": protected.etag})

    assert response.status_code == 200
    assert "Delete attribute" in response.content.decode()
    assert CONFIRM_ERROR in html.unescape(response.content.decode())
    assert Attribute.objects.filter(pk=protected.pk).exists()


def test_delete_of_an_unprotected_name_needs_no_confirmation(client, editor, unprotected):
    response = client.post(delete_url(unprotected), {"version": unprotected.etag}, headers=HTMX_MODAL)

    assert response.headers.get("HX-Trigger") == '{"attributesChanged": null}'
    assert not Attribute.objects.filter(pk=unprotected.pk).exists()


# --- API ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?confirm=", "?confirm=billing", "?confirm=BILLING_ACCOUNT_ID"])
def test_api_delete_without_the_right_confirm_is_400_naming_confirm_and_deletes_nothing(api_client, protected, query):
    response = api_client.delete(f"/crm/attribute/attribute_id/{protected.pk}{query}")

    assert response.status_code == 400
    assert response.json() == {"confirm": [CONFIRM_ERROR]}
    assert Attribute.objects.filter(pk=protected.pk).exists()


def test_api_delete_with_confirm_deletes(api_client, protected):
    response = api_client.delete(f"/crm/attribute/attribute_id/{protected.pk}?confirm=billing_account_id")

    assert response.status_code == 200
    assert response.json() == {"result": "success"}
    assert not Attribute.objects.filter(pk=protected.pk).exists()


def test_api_delete_of_an_unprotected_name_needs_no_confirm(api_client, unprotected):
    assert api_client.delete(f"/crm/attribute/attribute_id/{unprotected.pk}").status_code == 200
    assert not Attribute.objects.filter(pk=unprotected.pk).exists()


def test_api_delete_without_permission_is_403_before_any_confirmation(protected):
    client = bearer_client(make_user("view_customer_attribute"))

    response = client.delete(f"/crm/attribute/attribute_id/{protected.pk}?confirm=billing_account_id")

    assert response.status_code == 403
    assert Attribute.objects.filter(pk=protected.pk).exists()


def test_schema_documents_the_confirm_query_parameter():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/crm/attribute/attribute_id/{attribute_id}"]["delete"]
    [confirm] = [p for p in operation["parameters"] if p["name"] == "confirm"]

    assert confirm["in"] == "query"
    assert confirm["schema"] == {"type": "string"}
    assert "protected" in operation["description"]
