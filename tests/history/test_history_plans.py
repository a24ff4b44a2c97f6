"""Per-customer and per-attribute history reads come from the composite indexes, in order, on both databases."""

import pytest

from attributes import selectors
from tests.attributes.test_query_plans import plan
from tests.factories import make_attribute, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    for _ in range(5):
        customer = make_customer()
        for i in range(4):
            make_attribute(customer, f"name_{i}", "v")


def test_a_customers_history_page_reads_the_customer_date_index(data):
    customer_id = selectors.history_records().first().customer_id
    text = plan(selectors.history_records(customer_id=customer_id)[:50])
    assert "history_customer_date_idx" in text, text
    assert "Sort" not in text and "TEMP B-TREE" not in text, text  # rows come out in order, no sort


def test_an_attributes_history_reads_the_attribute_date_index(data):
    attribute_id = selectors.history_records().first().attribute_id
    text = plan(selectors.history_records(attribute_id=attribute_id)[:50])
    assert "history_attribute_date_idx" in text, text
    assert "Sort" not in text and "TEMP B-TREE" not in text, text
