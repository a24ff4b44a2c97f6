"""The customer list's attribute filter: each operator, combinations, bookmarkable URLs, errors, paging, queries.

The form submits the API's parameter names (static/js/app.js names the value input after the chosen operator;
tests/browser/test_attribute_filter.py drives that), so these GETs are what the form sends."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attributes import filters
from tests.factories import make_attribute, make_customer, make_user

from .conftest import VIEW

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [customer.customer_name for customer in response.context["customer_list"]]


@pytest.fixture
def tiers():
    """Four customers: three with a support_tier, one without; two with a region."""
    gold = make_customer(customer_name="Acme Fiber")
    make_attribute(gold, "support_tier", "gold")
    make_attribute(gold, "region", "north")
    premium = make_customer(customer_name="Blue Networks")
    make_attribute(premium, "support_tier", "Premium Plus")
    make_attribute(premium, "region", "south")
    basic = make_customer(customer_name="Copper Link")
    make_attribute(basic, "support_tier", "basic")
    make_customer(customer_name="Delta Data")
    return gold, premium, basic


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"attribute_name": "support_tier", "attribute_value": "gold"}, ["Acme Fiber"]),
        ({"attribute_name": "support_tier", "attribute_value__in": "gold,basic"}, ["Acme Fiber", "Copper Link"]),
        ({"attribute_name": "support_tier", "attribute_value__startswith": "Prem"}, ["Blue Networks"]),
        ({"attribute_name": "support_tier", "attribute_value__icontains": "PLUS"}, ["Blue Networks"]),
        ({"attribute_name": "region", "attribute_exists": "true"}, ["Acme Fiber", "Blue Networks"]),
        ({"attribute_name": "region", "attribute_exists": "false"}, ["Copper Link", "Delta Data"]),
    ],
    ids=["equals", "is-one-of", "starts-with", "contains", "has-attribute", "lacks-attribute"],
)
def test_filter_operator_selects_matching_customers(client, viewer, tiers, params, expected):
    response = client.get("/customers/", params)

    assert response.status_code == 200
    assert names(response) == expected


def test_filter_combines_with_search_status_and_extra_conditions(client, viewer, tiers):
    gold, premium, _ = tiers
    premium.customer_status = "Suspended"
    premium.save()
    make_attribute(make_customer(customer_name="Acme Wireless"), "support_tier", "gold")

    both = client.get("/customers/", {"attribute_name": "support_tier", "attribute_value__in": "gold,Premium Plus"})
    with_search = client.get("/customers/", {"q": "acme", "attribute_name": "support_tier", "attribute_value": "gold"})
    with_status = client.get(
        "/customers/", {"status": "Suspended", "attribute_name": "region", "attribute_exists": "true"}
    )
    with_pair = client.get(
        "/customers/", {"attribute_name": "support_tier", "attribute_value": "gold", "attribute": "region:north"}
    )

    assert names(both) == ["Acme Fiber", "Acme Wireless", "Blue Networks"]
    assert names(with_search) == ["Acme Fiber", "Acme Wireless"]
    assert names(with_status) == ["Blue Networks"]
    assert names(with_pair) == ["Acme Fiber"]
    assert "region equals north" in with_pair.content.decode()


@pytest.mark.parametrize(
    ("op", "value_param", "value", "expected"),
    [
        ("exact", "attribute_value", "gold", ["Acme Fiber"]),
        ("in", "attribute_value__in", "gold,basic", ["Acme Fiber", "Copper Link"]),
        ("startswith", "attribute_value__startswith", "Prem", ["Blue Networks"]),
        ("icontains", "attribute_value__icontains", "plus", ["Blue Networks"]),
        ("exists", "attribute_exists", "true", ["Acme Fiber", "Blue Networks", "Copper Link"]),
        ("missing", "attribute_exists", "false", ["Delta Data"]),
    ],
)
def test_submitted_filter_form_uses_api_parameter_names(client, viewer, tiers, op, value_param, value, expected):
    """What the form sends for each operator (the list and the address bar keep it as it is: no redirect)."""
    query = {"q": "", "status": "", "attribute_name": "support_tier", value_param: value}

    response = client.get("/customers/", query)

    assert response.status_code == 200
    assert names(response) == expected
    assert f'<option value="{op}"' in response.content.decode()


def test_form_offers_each_operator_with_its_parameter(client, viewer):
    html = client.get("/customers/").content.decode()

    assert '<select class="form-select" id="id_attribute_op" data-filter-op>' in html  # no name: not submitted
    for op, param in [
        ("exact", "attribute_value"),
        ("in", "attribute_value__in"),
        ("startswith", "attribute_value__startswith"),
        ("icontains", "attribute_value__icontains"),
    ]:
        assert f'<option value="{op}" data-param="{param}"' in html
    assert '<option value="exists" data-exists="true">has attribute</option>' in html
    assert '<option value="missing" data-exists="false">lacks attribute</option>' in html
    # Without JavaScript the row is "equals": the value input's own name, the has/lacks input off.
    assert 'name="attribute_value" id="id_attribute_value"' in html
    assert '<input type="hidden" name="attribute_exists" value="true" data-filter-exists disabled>' in html


def test_empty_filter_row_is_no_filter(client, viewer, tiers):
    empty_value = client.get("/customers/", {"q": "", "status": "", "attribute_name": "", "attribute_value": ""})
    empty_exists = client.get("/customers/", {"q": "", "status": "", "attribute_name": " ", "attribute_exists": "true"})

    for response in (empty_value, empty_exists):
        assert response.status_code == 200
        assert 'id="attribute-filter-errors"' not in response.content.decode()
        assert names(response) == ["Acme Fiber", "Blue Networks", "Copper Link", "Delta Data"]


def test_typed_value_loses_surrounding_spaces(client, viewer, tiers):
    response = client.get("/customers/", {"attribute_name": " support_tier ", "attribute_value": " gold "})

    assert names(response) == ["Acme Fiber"]


def test_bookmarked_url_fills_the_filter_and_lists_the_matching_customers(client, viewer, tiers):
    bookmark = "/customers/?attribute_name=support_tier&attribute_value__startswith=Prem"

    shared = client.get(bookmark)
    html = shared.content.decode()

    assert names(shared) == ["Blue Networks"]
    assert 'name="attribute_name" id="id_attribute_name"\n           value="support_tier"' in html
    assert '<option value="startswith" data-param="attribute_value__startswith" selected>starts with</option>' in html
    # The value input keeps the operator's name, so submitting the form again (even without JavaScript) keeps it.
    assert 'name="attribute_value__startswith" id="id_attribute_value" value="Prem"' in html


def test_bookmarked_has_attribute_url_selects_that_operator_and_disables_the_value(client, viewer, tiers):
    html = client.get("/customers/?attribute_name=region&attribute_exists=true").content.decode()

    assert '<option value="exists" data-exists="true" selected>has attribute</option>' in html
    assert "no value needed" in html
    assert '<input type="hidden" name="attribute_exists" value="true" data-filter-exists>' in html


def test_bookmarked_lacks_attribute_url_sends_attribute_exists_false_again(client, viewer, tiers):
    html = client.get("/customers/?attribute_name=region&attribute_exists=false").content.decode()

    assert '<option value="missing" data-exists="false" selected>lacks attribute</option>' in html
    assert '<input type="hidden" name="attribute_exists" value="false" data-filter-exists>' in html
    assert re.search(r'<input class="form-control" type="text" name="attribute_value" [^>]*disabled>', html)


def test_name_suggestions_list_the_names_in_use(client, viewer, tiers):
    html = client.get("/customers/").content.decode()

    assert '<datalist id="attribute-names">' in html
    assert '<option value="region"></option><option value="support_tier"></option>' in html


def test_name_suggestions_are_cached(client, viewer, tiers):
    client.get("/customers/")
    make_attribute(tiers[0], "brand_new_name", "x")

    html = client.get("/customers/").content.decode()
    cache.delete(filters.NAMES_CACHE_KEY)
    fresh = client.get("/customers/").content.decode()

    assert '<option value="brand_new_name">' not in html
    assert '<option value="brand_new_name">' in fresh


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"attribute_name": "Support Tier", "attribute_value": "gold"}, "is not a valid attribute name"),
        ({"attribute_name": "support_tier", "attribute_value": ""}, "Give a value."),
        ({"attribute_value": "gold"}, "Give attribute_name with"),
        ({"attribute_name": "support_tier", "attribute_value__regex": "g.*"}, "Unknown operator “regex”"),
        ({"attribute_name": "support_tier", "attribute_exists": "maybe"}, "Use true or false."),
        ({"attribute": "support_tier"}, "use attribute=name:value"),
        ({"colour": "red"}, "Unknown filter parameter “colour”"),
    ],
)
def test_invalid_filter_shows_error_above_the_table_instead_of_customers(client, viewer, tiers, params, message):
    response = client.get("/customers/", params)
    html = response.content.decode()

    assert response.status_code == 200
    assert 'id="attribute-filter-errors"' in html
    assert message in html
    assert html.index("attribute-filter-errors") < html.index("<table")
    assert names(response) == []
    assert "Correct the attribute filter to see customers." in html


def test_invalid_filter_from_the_form_is_shown(client, viewer, tiers):
    response = client.get(
        "/customers/", {"q": "", "status": "", "attribute_name": "support_tier", "attribute_value": ""}
    )

    assert response.status_code == 200
    assert "Give a value." in response.content.decode()


def test_user_without_attribute_view_cannot_filter_by_attribute(client, tiers):
    client.force_login(make_user("view_customer"))

    response = client.get("/customers/", {"attribute_name": "support_tier", "attribute_value": "gold"})
    html = response.content.decode()

    assert response.status_code == 200
    assert names(response) == []
    assert "You need the view_customer_attribute permission" in html
    assert 'id="id_attribute_name"' not in html
    assert "attribute-names" not in html


def test_pagination_links_keep_the_filter(client, viewer):
    for n in range(30):
        make_attribute(make_customer(customer_name=f"Tiered {n:02}"), "support_tier", "gold")
    make_customer(customer_name="Untiered")

    first = client.get("/customers/", {"attribute_name": "support_tier", "attribute_value": "gold"})
    next_link = "?attribute_name=support_tier&amp;attribute_value=gold&amp;page=2"
    second = client.get("/customers/", {"attribute_name": "support_tier", "attribute_value": "gold", "page": "2"})

    assert next_link in first.content.decode()
    assert second.status_code == 200
    assert names(second) == [f"Tiered {n:02}" for n in range(25, 30)]


def test_export_link_carries_the_list_filter(client, viewer, tiers):
    html = client.get("/customers/", {"q": "a", "attribute_name": "support_tier", "attribute_value": "gold"}).content

    assert (
        b'href="/customers/attributes-export.csv?q=a&amp;attribute_name=support_tier&amp;attribute_value=gold"' in html
    )


def test_export_link_exports_everything_without_a_filter(client, viewer):
    assert b'href="/customers/attributes-export.csv"' in client.get("/customers/").content


def test_export_and_import_links_are_hidden_without_their_permissions(client, db):
    client.force_login(make_user("view_customer"))

    html = client.get("/customers/").content.decode()

    assert "attributes-export.csv" not in html
    assert "/attributes/import/" not in html


def test_import_link_is_shown_only_with_create_and_update(client, db):
    client.force_login(make_user("view_customer", VIEW, "create_customer_attribute"))
    create_only = client.get("/customers/").content.decode()
    client.force_login(make_user("view_customer", VIEW, "create_customer_attribute", "update_customer_attribute"))
    both = client.get("/customers/").content.decode()

    assert "/attributes/import/" not in create_only
    assert 'href="/attributes/import/"' in both


def _queries_for_filtered_list(client, customers: int) -> int:
    for n in range(customers):
        customer = make_customer(customer_name=f"Customer {n:03}")
        make_attribute(customer, "support_tier", "gold")
        make_attribute(customer, "region", "north")
    params = {"attribute_name": "support_tier", "attribute_value__in": "gold,silver", "attribute": "region:north"}
    cache.clear()  # the name suggestions' query is counted too
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/customers/", params)
    assert response.status_code == 200
    assert len(response.context["customer_list"]) == min(customers, 25)
    return len(queries)


def test_filtered_list_costs_a_fixed_number_of_queries(client, viewer):
    few = _queries_for_filtered_list(client, 2)
    many = _queries_for_filtered_list(client, 40)

    assert few == many
    assert many <= 7  # session, user, permissions (2), count, page, name suggestions
