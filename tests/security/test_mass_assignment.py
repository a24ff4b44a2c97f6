"""Fields a request may not set are never changed by it: ids, timestamps, and the customer an attribute belongs to.

Read-only fields may be echoed back in a body (clients send back what they read); they are ignored, never applied.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from attributes.models import Attribute
from customers.models import Customer
from tests.factories import make_user
from tests.security.conftest import ALL_CODENAMES

LONG_AGO = "2000-01-01 00:00:00"
FORGED = {"created": LONG_AGO, "last_modified": LONG_AGO}


@pytest.fixture
def ui(client, world):
    client.force_login(make_user(*ALL_CODENAMES))
    return client


def snapshot(instance) -> tuple:
    instance.refresh_from_db()
    return tuple(getattr(instance, f.attname) for f in instance._meta.concrete_fields)


def recent(moment: datetime) -> bool:
    return timezone.now() - moment < timedelta(minutes=5)


def test_put_create_ignores_forged_id_and_timestamps(api, world):
    other = snapshot(world.other_attribute)
    body = {
        "customer_id": world.customer.pk,
        "attribute_name": "new_name",
        "attribute_value": "v",
        "attribute_id": world.other_attribute.pk,
        **FORGED,
    }

    response = api.put("/crm/attribute/", body, format="json")

    assert response.status_code == 201
    created = Attribute.objects.get(customer=world.customer, attribute_name="new_name")
    assert created.pk != world.other_attribute.pk
    assert response.json()["attribute_id"] == created.pk
    assert recent(created.created) and recent(created.last_modified)
    assert snapshot(world.other_attribute) == other


def test_put_update_keeps_id_and_created_whatever_the_body_says(api, world):
    attribute = world.attribute
    before_created = attribute.created
    body = {
        "customer_id": world.customer.pk,
        "attribute_name": attribute.attribute_name,
        "attribute_value": "changed",
        "attribute_id": world.other_attribute.pk,
        **FORGED,
    }

    response = api.put("/crm/attribute/", body, format="json")

    assert response.status_code == 200
    attribute.refresh_from_db()
    assert response.json()["attribute_id"] == attribute.pk
    assert attribute.attribute_value == "changed"
    assert attribute.created == before_created
    assert recent(attribute.last_modified)
    assert world.other_attribute.attribute_value == Attribute.objects.get(pk=world.other_attribute.pk).attribute_value


def test_patch_ignores_forged_id_and_timestamps(api, world):
    before_created = world.attribute.created
    other = snapshot(world.other_attribute)
    body = {"attribute_value": "patched", "attribute_id": world.other_attribute.pk, **FORGED}

    response = api.patch(f"/crm/attribute/attribute_id/{world.attribute.pk}", body, format="json")

    assert response.status_code == 200
    world.attribute.refresh_from_db()
    assert (world.attribute.pk, world.attribute.attribute_value) == (response.json()["attribute_id"], "patched")
    assert world.attribute.created == before_created
    assert recent(world.attribute.last_modified)
    assert snapshot(world.other_attribute) == other


def test_patch_cannot_move_an_attribute_to_another_customer(api, world):
    before = snapshot(world.attribute)

    response = api.patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"customer_id": world.other_customer.pk, "attribute_value": "moved"},
        format="json",
    )

    assert response.status_code == 400
    assert "customer_id" in response.json()
    assert snapshot(world.attribute) == before


def test_patch_naming_its_own_customer_is_accepted(api, world):
    response = api.patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"customer_id": world.customer.pk, "attribute_value": "same customer"},
        format="json",
    )

    assert response.status_code == 200
    assert Attribute.objects.get(pk=world.attribute.pk).customer_id == world.customer.pk


def test_bulk_ignores_forged_ids_and_timestamps(api, world):
    other = snapshot(world.other_attribute)
    item = {
        "customer_id": world.customer.pk,
        "attribute_name": world.attribute.attribute_name,
        "attribute_value": "bulk",
        "attribute_id": world.other_attribute.pk,
        **FORGED,
    }

    response = api.put("/crm/attribute/bulk/", [item], format="json")

    assert response.status_code == 200, response.content
    assert response.json()[0]["attribute_id"] == world.attribute.pk
    assert Attribute.objects.get(pk=world.attribute.pk).attribute_value == "bulk"
    assert snapshot(world.other_attribute) == other


def test_customer_put_ignores_forged_id_and_timestamps(api, world):
    other = snapshot(world.other_customer)
    body = {"customer_name": "Forged", "customer_id": world.other_customer.pk, **FORGED}

    response = api.put("/crm/customer/", body, format="json")

    assert response.status_code == 201
    created = Customer.objects.get(customer_name="Forged")
    assert created.pk != world.other_customer.pk
    assert recent(created.created)
    assert snapshot(world.other_customer) == other


def test_customer_patch_never_changes_its_id_or_timestamps(api, world):
    customer = world.customer
    before_created = customer.created
    body = {"notes": "patched", "customer_id": world.other_customer.pk, **FORGED}

    response = api.patch(f"/crm/customer/customer_id/{customer.pk}", body, format="json")

    assert response.status_code == 200
    assert response.json()["customer_id"] == customer.pk
    customer.refresh_from_db()
    assert customer.notes == "patched"
    assert customer.created == before_created
    assert Customer.objects.get(pk=world.other_customer.pk).notes == ""
    assert Customer.objects.count() == 2


def test_customer_patch_with_only_read_only_fields_is_400_and_changes_nothing(api, world):
    before = snapshot(world.customer)

    response = api.patch(f"/crm/customer/customer_id/{world.customer.pk}", {"customer_id": 999}, format="json")

    assert response.status_code == 400
    assert snapshot(world.customer) == before


EXTRA_FIELDS = {"created": LONG_AGO, "last_modified": LONG_AGO, "history_id": "1"}


def test_ui_add_with_extra_fields_writes_only_name_and_value_on_the_customer_in_the_url(ui, world):
    other = snapshot(world.other_attribute)
    data = {
        "attribute_name": "from_form",
        "attribute_value": "v",
        "customer_id": world.other_customer.pk,
        "customer": world.other_customer.pk,
        "attribute_id": world.other_attribute.pk,
        **EXTRA_FIELDS,
    }

    response = ui.post(f"/customers/{world.customer.pk}/attributes/add/", data)

    assert response.status_code == 302
    created = Attribute.objects.get(attribute_name="from_form")
    assert created.customer_id == world.customer.pk
    assert created.pk != world.other_attribute.pk
    assert recent(created.created)
    assert snapshot(world.other_attribute) == other


def test_ui_edit_with_extra_fields_changes_only_name_and_value(ui, world):
    attribute = world.attribute
    before_created = attribute.created
    other = snapshot(world.other_attribute)
    data = {
        "attribute_name": attribute.attribute_name,
        "attribute_value": "edited",
        "customer_id": world.other_customer.pk,
        "customer": world.other_customer.pk,
        "attribute_id": world.other_attribute.pk,
        **EXTRA_FIELDS,
    }

    response = ui.post(f"/customers/{world.customer.pk}/attributes/{attribute.pk}/edit/", data)

    assert response.status_code == 302
    attribute.refresh_from_db()
    assert (attribute.customer_id, attribute.attribute_value) == (world.customer.pk, "edited")
    assert attribute.created == before_created
    assert snapshot(world.other_attribute) == other


def test_ui_customer_edit_with_extra_fields_keeps_id_and_timestamps(ui, world):
    customer = world.customer
    before_created = customer.created
    data = {
        "customer_name": "Renamed",
        "customer_account_type": "Business",
        "customer_status": "Open",
        "customer_id": world.other_customer.pk,
        **EXTRA_FIELDS,
    }

    response = ui.post(f"/customers/{customer.pk}/edit/", data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.customer_name == "Renamed"
    assert customer.created == before_created
    assert Customer.objects.get(pk=world.other_customer.pk).customer_name == "Other Networks"
    assert Customer.objects.count() == 2
