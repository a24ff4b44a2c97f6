"""The search and list queries use indexes on both databases (the benchmark shows the same at 1M rows)."""

import pytest
from django.db import connection
from django.http import QueryDict

from attributes.filters import CustomerAttributeFilterSet
from attributes.models import Attribute
from customers.models import Customer
from tests.factories import make_attribute, make_customer

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny test table is cheaper to scan; forbid that to see whether the index can serve the query.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row) for row in cursor.fetchall())


@pytest.fixture
def data():
    for i in range(20):
        customer = make_customer()
        make_attribute(customer, "support_tier", "premium" if i % 5 == 0 else "standard")
        make_attribute(customer, "vlan_id", str(100 + i))


@pytest.mark.parametrize(
    "query",
    [
        "attribute_name=support_tier&attribute_value=premium",
        "attribute_name=support_tier&attribute_value__in=premium,enterprise",
        "attribute_name=support_tier&attribute_value__startswith=prem",
        "attribute=support_tier:premium&attribute=vlan_id:100",
        "attribute_name=vlan_id",
    ],
)
def test_find_customers_by_attribute_uses_the_name_value_index(data, query):
    filterset = CustomerAttributeFilterSet(QueryDict(query), queryset=Customer.objects.order_by("customer_id"))
    text = plan(filterset.qs)
    assert "attribute_name_value_idx" in text or "attribute_unique_name_per_customer" in text, text


def test_a_customers_attributes_are_read_through_the_unique_index(data):
    customer = Customer.objects.first()
    text = plan(Attribute.objects.filter(customer=customer).order_by("attribute_name"))
    assert "attribute_unique_name_per_customer" in text or "customer_id" in text.lower(), text
    assert "SCAN attributes_attribute\n" not in text + "\n" and "Seq Scan" not in text, text
