"""Customers and the CSV export through the client."""

import csv
import io

import pytest
from crm_attributes_client import NotFound, PermissionDenied, TransportError, ValidationError

from customers.models import Customer
from tests.factories import make_attribute, make_customer

CUSTOMER_PERMS = ("view_customer", "add_customer", "change_customer", "delete_customer")


def test_create_read_list_update_and_delete_a_customer(crm):
    client = crm(*CUSTOMER_PERMS)

    created = client.create_customer("Metro Fiber Ltd", customer_account_type="Business", email="ops@metro.example")
    changed = client.update_customer(created.customer_id, customer_status="Suspended")

    assert (created.customer_name, created.customer_account_type, created.email) == (
        "Metro Fiber Ltd",
        "Business",
        "ops@metro.example",
    )
    assert client.customer(created.customer_id).customer_status == changed.customer_status == "Suspended"
    assert [c.customer_id for c in client.customers(page_size=1)] == [created.customer_id]
    client.delete_customer(created.customer_id)
    with pytest.raises(NotFound):
        client.customer(created.customer_id)


def test_customers_iterates_every_page(crm, proxy):
    made = [make_customer() for _ in range(5)]
    client = crm("view_customer", url=proxy.url)

    assert [c.customer_id for c in client.customers(page_size=2)] == [c.pk for c in made]
    assert len(proxy.seen) == 3


def test_a_bad_customer_is_a_validation_error(crm):
    with pytest.raises(ValidationError) as raised:
        crm(*CUSTOMER_PERMS).create_customer("Metro", customer_account_type="Galactic")
    assert raised.value.field == "customer_account_type"
    assert not Customer.objects.exists()


def test_creating_a_customer_is_not_retried_when_its_answer_is_lost(crm, proxy):
    client = crm(*CUSTOMER_PERMS, url=proxy.url)
    proxy.cut(after_bytes=0)

    with pytest.raises(TransportError):
        client.create_customer("Metro Fiber Ltd")

    assert Customer.objects.count() == 1  # one customer, not two


def test_export_csv_of_one_customer_and_by_attribute(crm):
    first, second = make_customer(customer_name="First"), make_customer(customer_name="Second")
    make_attribute(first, "support_tier", "premium")
    make_attribute(second, "support_tier", "basic")
    client = crm("view_customer", "view_customer_attribute")

    one = list(csv.DictReader(io.StringIO(client.export_csv(customer_id=first.pk))))
    premium = list(csv.DictReader(io.StringIO(client.export_csv(attribute="support_tier:premium"))))

    assert [(r["customer_name"], r["attribute_value"]) for r in one] == [("First", "premium")]
    assert [r["customer_id"] for r in premium] == [str(first.pk)]


def test_export_needs_the_customer_view_permission(crm):
    with pytest.raises(PermissionDenied):
        crm("view_customer_attribute").export_csv()
