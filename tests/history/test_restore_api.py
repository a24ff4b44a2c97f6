"""`POST /crm/attribute/history_id/{history_id}/restore`: the History tab's Restore over the API."""

import pytest
from rest_framework.test import APIClient

from attributes import services
from attributes.models import Attribute
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import CREATE, UPDATE, VIEW, latest

pytestmark = pytest.mark.django_db


def restore(client, row):
    return client.post(f"/crm/attribute/history_id/{row.history_id}/restore")


@pytest.fixture
def deleted():
    attribute = make_attribute(make_customer(), "external_crm_id", "SF-12345")
    services.attribute_delete(attribute=attribute, actor=None)
    return latest(attribute_id=attribute.pk)


def test_restore_brings_a_deleted_attribute_back_as_201_with_its_etag(deleted):
    client = bearer_client(make_user(CREATE), "restorer")

    response = restore(client, deleted)

    assert response.status_code == 201, response.content
    attribute = Attribute.objects.get()
    assert response.json()["attribute_id"] == attribute.pk
    assert (attribute.attribute_name, attribute.attribute_value) == ("external_crm_id", "SF-12345")
    assert response["ETag"] == attribute.etag
    row = latest(attribute_id=attribute.pk)
    assert (row.operation, row.channel, row.token_name) == ("restore", "api", "restorer")


def test_restore_of_an_earlier_value_is_an_update_and_needs_update_permission():
    attribute = make_attribute(make_customer(), "billing_cycle", "monthly")
    earlier = latest(attribute_id=attribute.pk)
    services.attribute_update(attribute=attribute, value="annual", actor=None)

    refused = restore(bearer_client(make_user(CREATE)), earlier)
    allowed = restore(bearer_client(make_user(CREATE, UPDATE)), earlier)

    assert refused.status_code == 403 and "update_customer_attribute" in refused.json()["detail"]
    assert allowed.status_code == 200
    assert Attribute.objects.get().attribute_value == "monthly"


def test_restore_needs_the_create_permission(deleted):
    response = restore(bearer_client(make_user(VIEW)), deleted)

    assert response.status_code == 403
    assert "create_customer_attribute" in response.json()["detail"]
    assert not Attribute.objects.exists()


def test_restore_without_credentials_is_401(deleted):
    assert restore(APIClient(), deleted).status_code == 401


@pytest.mark.parametrize("history_id", ["999999", "99999999999999999999999"])
def test_an_unknown_history_id_is_a_json_404(history_id):
    response = bearer_client(make_user(CREATE)).post(f"/crm/attribute/history_id/{history_id}/restore")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_other_methods_are_405(deleted):
    assert (
        bearer_client(make_user(CREATE)).get(f"/crm/attribute/history_id/{deleted.history_id}/restore").status_code
        == 405
    )
