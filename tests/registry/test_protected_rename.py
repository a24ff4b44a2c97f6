"""Renaming a protected name away removes it for every integration, so it is held to the rules of its deletion:
delete permission and the old name typed as confirmation, on every path that calls `attribute_update`."""

import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from attributes import services
from attributes.models import Attribute
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import ALL, CREATE, DELETE, HTMX_MODAL, UPDATE, VIEW, define

pytestmark = pytest.mark.django_db

CONFIRM_ERROR = (
    "“billing_account_id” is protected: renaming it away removes it like a deletion; type its name to confirm the "
    "rename."
)


@pytest.fixture
def protected():
    define("billing_account_id", "regex", pattern="BA-[0-9]+", protected=True)
    return make_attribute(make_customer(), "billing_account_id", "BA-1")


def names(attribute) -> list[str]:
    return list(Attribute.objects.filter(customer_id=attribute.customer_id).values_list("attribute_name", flat=True))


# --- the service: one rule for every path -------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [None, "", "billing", "zz_gone"])
def test_service_refuses_a_rename_away_without_the_old_name_as_confirmation(protected, confirm):
    with pytest.raises(ValidationError) as raised:
        services.attribute_update(attribute=protected, name="zz_gone", actor=make_user(*ALL), confirm=confirm)

    assert raised.value.message_dict == {"confirm": [CONFIRM_ERROR]}
    assert names(protected) == ["billing_account_id"]


def test_service_refuses_a_rename_away_without_delete_permission_even_when_confirmed(protected):
    with pytest.raises(PermissionDenied):
        services.attribute_update(
            attribute=protected, name="zz_gone", actor=make_user(VIEW, CREATE, UPDATE), confirm="billing_account_id"
        )

    assert names(protected) == ["billing_account_id"]


def test_service_renames_a_protected_name_with_delete_permission_and_confirmation(protected):
    renamed = services.attribute_update(
        attribute=protected, name="zz_gone", actor=make_user(UPDATE, DELETE), confirm="billing_account_id"
    )

    assert renamed.attribute_name == "zz_gone"
    assert names(protected) == ["zz_gone"]


def test_service_changes_a_protected_value_without_confirmation(protected):
    updated = services.attribute_update(attribute=protected, value="BA-2", actor=make_user(UPDATE))

    assert updated.attribute_value == "BA-2"


def test_service_renames_onto_a_protected_name_without_confirmation():
    define("billing_account_id", "regex", pattern="BA-[0-9]+", protected=True)
    attribute = make_attribute(make_customer(), "legacy_billing_id", "BA-7")

    services.attribute_update(attribute=attribute, name="billing_account_id", actor=make_user(UPDATE))

    assert names(attribute) == ["billing_account_id"]


# --- API: PATCH with ?confirm= like DELETE ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?confirm=", "?confirm=zz_gone"])
def test_api_patch_renaming_a_protected_name_away_without_confirm_is_400_and_changes_nothing(protected, query):
    client = bearer_client(make_user(*ALL))

    response = client.patch(
        f"/crm/attribute/attribute_id/{protected.pk}{query}", {"attribute_name": "zz_gone"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"confirm": [CONFIRM_ERROR]}
    assert names(protected) == ["billing_account_id"]


def test_api_patch_renaming_a_protected_name_away_without_delete_permission_is_403(protected):
    client = bearer_client(make_user(VIEW, CREATE, UPDATE))

    response = client.patch(
        f"/crm/attribute/attribute_id/{protected.pk}?confirm=billing_account_id",
        {"attribute_name": "zz_gone"},
        format="json",
    )

    assert response.status_code == 403
    assert names(protected) == ["billing_account_id"]


def test_api_patch_with_confirm_and_delete_permission_renames(protected):
    client = bearer_client(make_user(VIEW, UPDATE, DELETE))

    response = client.patch(
        f"/crm/attribute/attribute_id/{protected.pk}?confirm=billing_account_id",
        {"attribute_name": "zz_gone"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["attribute_name"] == "zz_gone"


def test_schema_documents_the_confirm_query_parameter_of_patch():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    patch = schema["paths"]["/crm/attribute/attribute_id/{attribute_id}"]["patch"]

    assert "confirm" in [p["name"] for p in patch["parameters"] if p["in"] == "query"]


# --- the Attributes tab's Edit form -------------------------------------------------------------------------------


def test_tab_edit_renaming_a_protected_name_away_shows_the_error_and_changes_nothing(client, protected):
    client.force_login(make_user("view_customer", *ALL))
    url = reverse("attributes:update", args=[protected.customer_id, protected.pk])

    response = client.post(url, {"attribute_name": "zz_gone", "attribute_value": "BA-1"}, headers=HTMX_MODAL)

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers  # the modal stays open with the reason
    assert CONFIRM_ERROR in html.unescape(response.content.decode())
    assert names(protected) == ["billing_account_id"]


def test_tab_edit_form_of_a_protected_name_asks_for_the_confirmation(client, protected):
    client.force_login(make_user("view_customer", *ALL))
    url = reverse("attributes:update", args=[protected.customer_id, protected.pk])

    form = client.get(url, headers=HTMX_MODAL).content.decode()
    refused = client.post(url, {"attribute_name": "zz_gone", "attribute_value": "BA-1"}, headers=HTMX_MODAL)

    assert 'name="confirm"' in form
    assert 'name="confirm"' in refused.content.decode() and 'aria-invalid="true"' in refused.content.decode()


def test_tab_edit_renames_a_protected_name_away_with_its_name_typed(client, protected):
    client.force_login(make_user("view_customer", *ALL))
    url = reverse("attributes:update", args=[protected.customer_id, protected.pk])

    response = client.post(
        url,
        {"attribute_name": "zz_gone", "attribute_value": "BA-1", "confirm": "billing_account_id"},
        headers=HTMX_MODAL,
    )

    assert response.status_code == 200
    assert "HX-Trigger" in response.headers  # saved: the modal closes
    assert names(protected) == ["zz_gone"]


def test_tab_edit_form_of_an_unprotected_name_has_no_confirmation(client):
    attribute = make_attribute(make_customer(), "vlan_id", "100")
    client.force_login(make_user("view_customer", *ALL))

    form = client.get(reverse("attributes:update", args=[attribute.customer_id, attribute.pk]), headers=HTMX_MODAL)

    assert 'name="confirm"' not in form.content.decode()
