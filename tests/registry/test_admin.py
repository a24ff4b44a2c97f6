"""AttributeDefinition in Django admin: managed with manage_attribute_registry, readable by attribute viewers."""

import pytest
from django.urls import reverse

from attributes.models import Attribute, AttributeDefinition
from tests.factories import make_attribute, make_customer, make_user

from .conftest import MANAGE, VIEW, define

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:attributes_attributedefinition_changelist")
ADD = reverse("admin:attributes_attributedefinition_add")
VALID = {"name": "billing_day", "description": "Invoice day.", "value_type": "integer", "example": "5"}


def change_url(definition) -> str:
    return reverse("admin:attributes_attributedefinition_change", args=[definition.pk])


@pytest.fixture
def tier():
    return define("support_tier", "choice", choices="gold\nsilver", dependent_systems="billing, RADIUS", protected=True)


def staff(client, *codenames):
    client.force_login(make_user(*codenames, is_staff=True))


def test_manager_sees_the_list_with_type_protection_and_systems(client, tier):
    staff(client, MANAGE)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [tier]
    assert "billing, RADIUS" in response.text
    assert "By value type" in response.text and "By protected" in response.text
    assert client.get(CHANGELIST + "?q=RADIUS").context["cl"].result_count == 1


def test_manager_adds_edits_and_deletes(client, tier):
    staff(client, MANAGE)

    assert client.post(ADD, VALID).status_code == 302
    assert AttributeDefinition.objects.get(name="billing_day").value_type == "integer"

    data = {"name": "support_tier", "value_type": "choice", "choices": "gold\nsilver\nbronze"}
    assert client.post(change_url(tier), data).status_code == 302
    tier.refresh_from_db()
    assert tier.choice_list == ["gold", "silver", "bronze"]

    delete = reverse("admin:attributes_attributedefinition_delete", args=[tier.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not AttributeDefinition.objects.filter(pk=tier.pk).exists()


def test_admin_applies_the_definitions_own_rules(client):
    staff(client, MANAGE)

    response = client.post(ADD, {**VALID, "value_type": "regex", "pattern": "BA-[0-9"})

    assert response.status_code == 200
    assert "Not a valid regular expression" in response.text
    assert not AttributeDefinition.objects.exists()


def test_attribute_viewer_may_only_read(client, tier):
    staff(client, VIEW)

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(change_url(tier)).status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(change_url(tier), {"name": "support_tier", "value_type": "text"}).status_code == 403
    tier.refresh_from_db()
    assert tier.value_type == "choice"


def test_staff_without_either_permission_is_refused(client, tier):
    staff(client, "view_customer")

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(tier)).status_code == 403


def test_attribute_admin_validates_values_against_the_registry(admin_client, tier):
    customer = make_customer()
    make_attribute(customer, "free_note", "x")

    response = admin_client.post(
        reverse("admin:attributes_attribute_add"),
        {"customer": customer.pk, "attribute_name": "support_tier", "attribute_value": "platinum"},
    )

    assert response.status_code == 200
    assert "expected one of: gold, silver" in response.text
    assert not Attribute.objects.filter(attribute_name="support_tier").exists()
