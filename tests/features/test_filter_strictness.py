"""One strict attribute filter (attributes/filters.py) behind every place that filters by attribute: the customer
list page, `GET /crm/customer/`, `GET /crm/attribute/` and both CSV exports.

Whatever a FilterSet does not know is refused by name (a 400 in the API and the exports, an error above the
list on the page), never silently ignored, and a refused query changes nothing and lists nothing.
"""

import csv
import io
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from attributes.filters import MAX_IN_VALUES, AttributeFilterSet, CustomerAttributeFilterSet
from attributes.models import Attribute
from customers.models import Customer
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import VIEW

pytestmark = pytest.mark.django_db

UNKNOWN_PARAM = ({"colour": "red"}, "colour", "Unknown filter parameter “colour”.")
UNKNOWN_OPERATOR = (
    {"attribute_name": "support_tier", "attribute_value__regex": "g.*"},
    "attribute_value__regex",
    "Unknown operator “regex”: use attribute_value (exact) or attribute_value__ with in, startswith, icontains.",
)
TWICE = (
    "attribute_name=support_tier&attribute_name=region",
    "attribute_name",
    "Give this parameter once (use attribute=name:value to combine conditions).",
)


@pytest.fixture
def tiers():
    gold = make_customer(customer_name="Acme Fiber")
    make_attribute(gold, "support_tier", "gold")
    make_attribute(gold, "region", "north")
    basic = make_customer(customer_name="Blue Networks")
    make_attribute(basic, "support_tier", "basic")
    make_customer(customer_name="Copper Link")
    return gold, basic


@pytest.fixture
def reader(db):
    """An API client that may read customers and attributes."""
    return bearer_client(make_user("view_customer", VIEW))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def query(params) -> str:
    if isinstance(params, str):
        return params
    return urlencode(params, doseq=True)


# --- refused by name, everywhere ----------------------------------------------------------------------------------

API_URLS = ["/crm/customer/", "/crm/attribute/", "/crm/attribute/export"]


@pytest.mark.parametrize(("params", "key", "message"), [UNKNOWN_PARAM, UNKNOWN_OPERATOR, TWICE])
@pytest.mark.parametrize("url", API_URLS)
def test_api_refuses_unknown_or_repeated_filter_parameter_naming_it(reader, tiers, url, params, key, message):
    response = reader.get(f"{url}?{query(params)}")

    assert response.status_code == 400
    assert response.json() == {key: [message]}


@pytest.mark.parametrize(("params", "key", "message"), [UNKNOWN_PARAM, UNKNOWN_OPERATOR, TWICE])
def test_list_page_shows_unknown_or_repeated_parameter_instead_of_customers(
    client, viewer, tiers, params, key, message
):
    response = client.get(f"/customers/?{query(params)}")
    html = response.content.decode()

    assert response.status_code == 200
    assert 'id="attribute-filter-errors"' in html
    assert message in html
    assert list(response.context["customer_list"]) == []


@pytest.mark.parametrize(("params", "key", "message"), [UNKNOWN_PARAM, UNKNOWN_OPERATOR, TWICE])
def test_list_export_refuses_unknown_or_repeated_parameter_naming_it(client, viewer, tiers, params, key, message):
    response = client.get(f"/customers/attributes-export.csv?{query(params)}")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()


def test_list_page_keeps_its_own_parameters_and_the_api_does_not_take_them(client, viewer, reader, tiers):
    """q, status and page belong to the list page; `GET /crm/customer/` has no such parameters."""
    page = client.get("/customers/", {"q": "acme", "status": "", "page": "1", "attribute_name": "support_tier"})
    api = reader.get("/crm/customer/", {"q": "acme", "attribute_name": "support_tier"})

    assert [c.customer_name for c in page.context["customer_list"]] == ["Acme Fiber"]
    assert api.status_code == 400
    assert api.json() == {"q": ["Unknown filter parameter “q”."]}


def test_attribute_list_takes_no_customer_only_parameters(reader, tiers):
    for params, key in [
        ({"attribute": "region:north"}, "attribute"),
        ({"attribute_exists": "true"}, "attribute_exists"),
    ]:
        response = reader.get("/crm/attribute/", {"attribute_name": "region", **params})

        assert response.status_code == 400
        assert response.json() == {key: [f"Unknown filter parameter “{key}”."]}


@pytest.mark.parametrize(
    ("params", "key", "message"),
    [
        ({"attribute_name": "Support Tier"}, "attribute_name", "“Support Tier” is not a valid attribute name"),
        ({"attribute_name": ""}, "attribute_name", "“” is not a valid attribute name"),
        ({"attribute_name": "support_tier", "attribute_value": ""}, "attribute_value", "Give a value."),
        ({"attribute_value": "gold"}, "attribute_name", "Give attribute_name with"),
        ({"attribute_name": "t", "attribute_value__in": ","}, "attribute_value__in", "Give 1 to 100"),
        (
            {"attribute_name": "t", "attribute_value__in": ",".join(f"v{n}" for n in range(MAX_IN_VALUES + 1))},
            "attribute_value__in",
            "Give 1 to 100 comma-separated values.",
        ),
        ({"attribute_name": "t", "attribute_exists": "maybe"}, "attribute_exists", "Use true or false."),
        (
            {"attribute_name": "t", "attribute_exists": "false", "attribute_value": "x"},
            "attribute_exists",
            "attribute_exists=false cannot be combined with a value.",
        ),
        ({"attribute": "support_tier"}, "attribute", "“support_tier”: use attribute=name:value."),
        ({"attribute": "support_tier:"}, "attribute", "“support_tier:”: use attribute=name:value."),
        ({"attribute": "Bad Name:x"}, "attribute", "“Bad Name” is not a valid attribute name"),
    ],
)
def test_customer_search_refuses_bad_values_naming_the_parameter(reader, tiers, params, key, message):
    response = reader.get("/crm/customer/", params)

    assert response.status_code == 400
    assert key in response.json()
    assert message in response.json()[key][0]


def test_a_filter_with_an_error_applies_none_of_its_valid_parts(tiers):
    """django-filter on its own would filter by the valid parameters and drop the bad one."""
    filterset = CustomerAttributeFilterSet(QueryDict("attribute_name=support_tier&attribute_value__regex=x"))

    assert not filterset.is_valid()
    assert set(filterset.errors) == {"attribute_value__regex"}
    with pytest.raises(Exception, match="Unknown operator"):
        filterset.qs  # noqa: B018


def test_extra_params_are_the_callers_own(tiers):
    params = QueryDict("attribute_name=region&limit=5")

    assert not AttributeFilterSet(params).is_valid()
    assert AttributeFilterSet(params, extra_params={"limit"}).is_valid()


# --- the same matches everywhere ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"attribute_name": "support_tier"}, ["Acme Fiber", "Blue Networks"]),
        ({"attribute_name": "support_tier", "attribute_value": "gold"}, ["Acme Fiber"]),
        ({"attribute_name": "support_tier", "attribute_value__in": "gold,basic,"}, ["Acme Fiber", "Blue Networks"]),
        ({"attribute_name": "support_tier", "attribute_value__startswith": "ba"}, ["Blue Networks"]),
        ({"attribute_name": "support_tier", "attribute_value__icontains": "OL"}, ["Acme Fiber"]),
        ({"attribute_name": "region", "attribute_exists": "TRUE"}, ["Acme Fiber"]),
        ({"attribute_name": "region", "attribute_exists": "false"}, ["Blue Networks", "Copper Link"]),
        ({"attribute": ["support_tier:gold", "region:north"]}, ["Acme Fiber"]),
        ({"attribute": ["support_tier:basic", "region:north"]}, []),
        (
            {"attribute_name": "support_tier", "attribute_value__startswith": "g", "attribute_value__icontains": "x"},
            [],
        ),
    ],
)
def test_customer_search_page_and_export_find_the_same_customers(client, viewer, reader, tiers, params, expected):
    api = reader.get(f"/crm/customer/?{query(params)}")
    page = client.get(f"/customers/?{query(params)}")
    ui_export = client.get(f"/customers/attributes-export.csv?{query(params)}")
    api_export = reader.get(f"/crm/attribute/export?{query(params)}")
    by_id = dict(Customer.objects.values_list("customer_id", "customer_name"))

    assert [c["customer_name"] for c in api.json()] == expected
    assert api["X-Total-Count"] == str(len(expected))
    assert [c.customer_name for c in page.context["customer_list"]] == expected
    with_attributes = set(Attribute.objects.values_list("customer__customer_name", flat=True))
    for export in (ui_export, api_export):  # the matching customers' attributes (Copper Link has none)
        assert export.status_code == 200
        assert sorted({by_id[int(row[0])] for row in csv_rows(export)[1:]}) == sorted(with_attributes & set(expected))


def test_customer_search_needs_attribute_view_after_the_parameters_are_checked(tiers):
    client = bearer_client(make_user("view_customer"))

    bad = client.get("/crm/customer/", {"colour": "red"})
    forbidden = client.get("/crm/customer/", {"attribute_name": "support_tier"})
    plain = client.get("/crm/customer/")

    assert bad.status_code == 400
    assert forbidden.status_code == 403
    assert plain.status_code == 200


def test_attribute_list_finds_attributes_across_customers(reader, tiers):
    gold, basic = tiers

    by_name = reader.get("/crm/attribute/", {"attribute_name": "support_tier"})
    by_value = reader.get("/crm/attribute/", {"attribute_name": "support_tier", "attribute_value__in": "gold"})
    everything = reader.get("/crm/attribute/", {"limit": 2})

    assert [(a["customer_id"], a["attribute_value"]) for a in by_name.json()] == [
        (gold.pk, "gold"),
        (basic.pk, "basic"),
    ]
    assert [a["customer_id"] for a in by_value.json()] == [gold.pk]
    assert everything["X-Total-Count"] == str(Attribute.objects.count())


def test_customer_search_counts_a_single_condition_from_the_attribute_rows(reader, tiers, django_assert_num_queries):
    filterset = CustomerAttributeFilterSet(QueryDict("attribute_name=support_tier"), queryset=Customer.objects.all())
    assert filterset.is_valid()

    with django_assert_num_queries(1) as queries:
        assert filterset.count() == 2

    assert "customer" not in queries.captured_queries[0]["sql"].lower().split("from", 1)[1].split("where")[0]


def test_api_export_combines_customer_id_with_the_filter(reader, tiers):
    gold, basic = tiers

    mine = reader.get("/crm/attribute/export", {"customer_id": basic.pk, "attribute_name": "support_tier"})
    none = reader.get("/crm/attribute/export", {"customer_id": basic.pk, "attribute_name": "region"})

    assert [row[:4] for row in csv_rows(mine)[1:]] == [[str(basic.pk), "Blue Networks", "support_tier", "basic"]]
    assert csv_rows(none)[1:] == []
