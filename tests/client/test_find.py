"""Finding customers and attributes: iterators that follow the server's `Link: rel="next"` pages."""

import pytest
from crm_attributes_client import ValidationError

from tests.factories import make_attribute, make_customer

FIND_PERMS = ("view_customer", "view_customer_attribute")


@pytest.fixture
def tiers():
    customers = [make_customer(customer_name=f"Tier {n}") for n in range(7)]
    for n, customer in enumerate(customers):
        make_attribute(customer, "support_tier", "premium" if n % 2 == 0 else "basic")
        if n < 3:
            make_attribute(customer, "auto_provision", "true")
    return customers


def test_find_customers_follows_every_page(crm, proxy, tiers):
    client = crm(*FIND_PERMS, url=proxy.url)

    found = list(client.find_customers("support_tier", value="premium", page_size=2))

    assert [c.customer_id for c in found] == [c.pk for c in tiers[0::2]]
    assert found[0].customer_name == "Tier 0"
    assert len(proxy.seen) == 2  # 4 customers in pages of 2


def test_find_customers_with_several_conditions_and_absence(crm, tiers):
    client = crm(*FIND_PERMS)

    both = list(client.find_customers(all_of={"support_tier": "premium", "auto_provision": "true"}))
    lacking = list(client.find_customers("auto_provision", exists=False))
    either = list(client.find_customers("support_tier", value_in=["premium", "basic"]))

    assert [c.customer_id for c in both] == [tiers[0].pk, tiers[2].pk]
    assert [c.customer_id for c in lacking] == [c.pk for c in tiers[3:]]
    assert len(either) == 7


def test_find_attributes_pages_by_id_with_after(crm, proxy, tiers):
    client = crm("view_customer_attribute", url=proxy.url)

    found = list(client.find_attributes("support_tier", value_startswith="bas", page_size=2))

    assert [a.customer_id for a in found] == [c.pk for c in tiers[1::2]]
    assert "after=" in proxy.seen[1].path  # the next link is a keyset page


def test_a_bad_search_is_a_validation_error_naming_the_parameter(crm, tiers):
    with pytest.raises(ValidationError) as raised:
        list(crm(*FIND_PERMS).find_customers(value="premium"))  # a value without a name
    assert raised.value.errors


def test_find_customers_needs_the_attribute_view_permission(crm, tiers):
    from crm_attributes_client import PermissionDenied

    with pytest.raises(PermissionDenied):
        list(crm("view_customer").find_customers("support_tier", value="premium"))
