"""The bulk helper: any number of items in requests of at most the server's limit, each chunk all-or-nothing."""

import pytest
from crm_attributes_client import BULK_MAX_ITEMS, BulkError

from attributes.models import Attribute
from attributes.services.bulk import BULK_MAX_ITEMS as SERVER_BULK_MAX_ITEMS
from customers.models import Customer
from tests.factories import make_customer

from .conftest import ALL_ATTRIBUTE_PERMS


def test_the_clients_chunk_limit_is_the_servers():
    assert BULK_MAX_ITEMS == SERVER_BULK_MAX_ITEMS


def test_2500_attributes_go_as_three_requests_and_one_error_lists_the_bad_items_of_a_chunk(crm, proxy):
    client = crm(*ALL_ATTRIBUTE_PERMS, url=proxy.url)
    customers = Customer.objects.bulk_create([Customer(customer_name=f"Bulk {n}") for n in range(25)])
    items = [
        {"customer_id": customers[n % 25].pk, "attribute_name": f"field_{n // 25}", "attribute_value": f"v{n}"}
        for n in range(2500)
    ]
    items[1200]["attribute_value"] = "x" * 151  # both in the second chunk (items 1000-1999)
    items[1500]["customer_id"] = 10**9

    with pytest.raises(BulkError) as raised:
        client.bulk_upsert(items)

    error = raised.value
    bulk_requests = [s for s in proxy.seen if s.path.startswith("/crm/attribute/bulk")]
    assert [s.method for s in bulk_requests] == ["PUT", "PUT", "PUT"]
    assert [(e.index, e.field) for e in error.errors] == [(1200, "attribute_value"), (1500, "customer_id")]
    assert "150 characters" in error.errors[0].message
    assert error.errors[1].item == items[1500]
    assert error.failed_chunks == [(1000, 2000)]
    assert len(error.stored) == 1500
    assert "item 1200: attribute_value" in str(error) and "item 1500: customer_id" in str(error)
    assert "nothing of those chunks was written; the other 1500 of 2500 items were stored" in str(error)
    # The good chunks are stored, the bad one not at all.
    stored = set(Attribute.objects.values_list("customer_id", "attribute_name"))
    expected = {(i["customer_id"], i["attribute_name"]) for n, i in enumerate(items) if not 1000 <= n < 2000}
    assert stored == expected


def test_bulk_returns_every_result_in_order_from_a_generator(writer):
    customer = make_customer()
    writer.upsert(customer.pk, "a", "1")

    results = writer.bulk_upsert(((customer.pk, name, "1") for name in ["a", "b"]), chunk_size=1)

    assert [(r.attribute.attribute_name, r.result) for r in results] == [("a", "unchanged"), ("b", "created")]


def test_set_attributes_writes_a_customers_attributes_in_one_request(crm, proxy):
    client = crm(*ALL_ATTRIBUTE_PERMS, url=proxy.url)
    customer = make_customer()

    client.set_attributes(customer.pk, {"legacy_crm_id": "OLD-1", "migrated_date": "2025-01-04"})

    assert len(proxy.seen) == 1
    assert client.values(customer.pk) == {"legacy_crm_id": "OLD-1", "migrated_date": "2025-01-04"}


def test_a_chunk_size_over_the_servers_limit_is_refused_before_any_request(writer):
    with pytest.raises(ValueError, match="1000"):
        writer.bulk_upsert([], chunk_size=1001)
    assert writer.requests_sent == 0


def test_a_bulk_write_without_permission_raises_permission_denied(crm):
    from crm_attributes_client import PermissionDenied

    with pytest.raises(PermissionDenied):
        crm("view_customer_attribute").bulk_upsert([(make_customer().pk, "a", "1")])
    assert not Attribute.objects.exists()
