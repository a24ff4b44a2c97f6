"""Admin changelists at scale: no full COUNT(*), an indexed search, bounded pages; and the capped paginators."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_project import paging
from tests.attributes.test_query_plans import plan
from tests.factories import make_attribute, make_customer

CHANGELIST = "/admin/attributes/attribute/"


def unbounded_counts(queries, table: str) -> list[str]:
    """COUNT queries over `table` with neither a WHERE nor a LIMIT: a read of every row."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"] and f'"{table}"' in q["sql"] and not re.search(r"\bWHERE\b|\bLIMIT\b", q["sql"])
    ]


@pytest.fixture
def rows(customer):
    make_attribute(customer, "external_crm_id", "SF-00123")
    make_attribute(customer, "billing_method", "quarterly")
    other = make_customer(customer_id=900001)  # an id no attribute id in the test reaches
    make_attribute(other, "external_crm_id", "HS-99")
    make_attribute(other, "billing_cycle", "SF-00999")
    return customer, other


def found(client, q: str) -> list[tuple[str, str]]:
    response = client.get(CHANGELIST, {"q": q})
    assert response.status_code == 200
    return sorted((a.attribute_name, a.attribute_value) for a in response.context["cl"].result_list)


@pytest.mark.parametrize(
    "url",
    [
        CHANGELIST, CHANGELIST + "?q=SF", "/admin/customers/customer/", "/admin/jobs/job/", "/admin/events/event/",
        "/admin/events/event/?q=billing_method", "/admin/webhooks/delivery/",
    ],
)  # fmt: skip
def test_changelists_run_no_full_count(admin_client_, rows, url):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client_.get(url)

    assert response.status_code == 200
    for table in ("attributes_attribute", "customers_customer", "jobs_job", "events_event", "webhooks_delivery"):
        assert unbounded_counts(queries, table) == [], table
    assert not any("SELECT DISTINCT" in q["sql"] and "attribute_name" in q["sql"] for q in queries.captured_queries)


def test_search_by_number_finds_the_attribute_id_or_the_customer_id(admin_client_, rows):
    customer, other = rows
    attribute = other.attributes.get(attribute_name="billing_cycle")

    assert found(admin_client_, "900001") == [("billing_cycle", "SF-00999"), ("external_crm_id", "HS-99")]
    assert ("billing_cycle", "SF-00999") in found(admin_client_, str(attribute.pk))
    assert found(admin_client_, "99999999999999999999") == []


def test_search_by_prefix_finds_names_and_values(admin_client_, rows):
    assert found(admin_client_, "SF-00") == [("billing_cycle", "SF-00999"), ("external_crm_id", "SF-00123")]
    assert found(admin_client_, "billing") == [("billing_cycle", "SF-00999"), ("billing_method", "quarterly")]
    assert found(admin_client_, "external_crm_id=SF") == [("external_crm_id", "SF-00123")]
    assert found(admin_client_, "sf-00") == []  # case-sensitive: that is what the index can serve
    assert found(admin_client_, "00123") == []  # a prefix, not "contains"


def test_search_help_text_documents_the_syntax(admin_client_, rows):
    response = admin_client_.get(CHANGELIST)
    assert "name=value" in response.text and "case-sensitive" in response.text


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ({"attribute_value__gte": "SF-00", "attribute_value__lt": "SF-01"}, "attribute_value_idx"),
        ({"attribute_name__gte": "bill", "attribute_name__lt": "bilm"}, "attribute_name_value_idx"),
    ],
)
def test_prefix_search_uses_an_index(rows, where, index):
    from attributes.models import Attribute

    text = plan(Attribute.objects.filter(**where))
    assert index in text, text


def test_admin_pages_and_counts_stop_at_the_cap(admin_client_, rows, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)

    response = admin_client_.get(CHANGELIST)

    assert response.context["cl"].result_count == 3
    assert response.context["cl"].paginator.capped


@pytest.mark.django_db
def test_capped_paginator_counts_at_most_the_cap(monkeypatch):
    for i in range(5):
        make_customer(customer_name=f"C{i}")
    from customers.models import Customer

    with CaptureQueriesContext(connection) as queries:
        paginator = paging.CappedPaginator(Customer.objects.order_by("pk"), 2, cap=3)
        assert paginator.count == 3 and paginator.num_pages == 2 and paginator.capped
    assert all("LIMIT 3" in q["sql"] or "OFFSET 3" in q["sql"] for q in queries.captured_queries if "COUNT" in q["sql"])
    assert not paging.CappedPaginator(Customer.objects.all(), 2, cap=10).capped
