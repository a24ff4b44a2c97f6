"""History outlives an attribute; deleting its customer is the only thing that removes it."""

import pytest

from attributes import services
from attributes.models import Attribute
from tests.factories import make_attribute, make_customer, make_user

from .conftest import history_rows

pytestmark = pytest.mark.django_db


def test_history_survives_the_attributes_deletion(attribute):
    services.attribute_update(attribute=attribute, value="SF-2", actor=None)
    services.attribute_delete(attribute=attribute, actor=None)

    assert not Attribute.objects.filter(pk=attribute.pk).exists()
    assert [(r.history_type, r.attribute_value) for r in history_rows(attribute_id=attribute.pk)] == [
        ("+", "SF-12345"),
        ("~", "SF-2"),
        ("-", "SF-2"),
    ]


def test_deleting_a_customer_removes_only_that_customers_history(customer):
    kept = make_customer()
    make_attribute(kept, "external_crm_id", "SF-1")
    gone = make_attribute(customer, "external_crm_id", "SF-2")
    services.attribute_delete(attribute=gone, actor=None)
    make_attribute(customer, "billing_plan", "annual")
    kept_rows = [r.history_id for r in history_rows(customer_id=kept.pk)]
    assert len(history_rows(customer_id=customer.pk)) == 3

    customer.delete()

    # Nothing is left of the customer, not even the deletes its own cascade records; the other keeps all.
    assert [r.history_id for r in history_rows()] == kept_rows


def test_deleting_customers_in_bulk_removes_their_history(customer):
    other = make_customer()
    for c in (customer, other):
        make_attribute(c, "external_crm_id", "SF-1")
    survivor = make_customer()
    make_attribute(survivor, "external_crm_id", "SF-3")

    type(customer).objects.filter(pk__in=[customer.pk, other.pk]).delete()

    assert {r.customer_id for r in history_rows()} == {survivor.pk}


def test_deleting_a_customer_through_the_ui_removes_its_history(client, customer, attribute):
    client.force_login(make_user("view_customer", "delete_customer"))

    response = client.post(f"/customers/{customer.pk}/delete/")

    assert response.status_code == 302
    assert history_rows(customer_id=customer.pk) == []


def test_history_keeps_the_actors_name_after_the_user_is_deleted(customer):
    user = make_user("create_customer_attribute", username="departed")
    services.attribute_upsert(customer=customer, name="billing_plan", value="annual", actor=user)

    user.delete()

    (row,) = history_rows(customer_id=customer.pk)
    assert (row.actor_name, row.history_user_id) == ("departed", None)
