"""The usage audit: figures on a known data set, in the report, on the Usage page and in the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from attributes.models import AttributeDefinition, UsageState
from attributes.selectors import near_duplicates, normalize, usage_report
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import T1, T2, T3, VIEW, refresh

PAGE = "/attributes/usage/"
API = "/crm/attribute/usage"

EXPECTED_NAMES = [
    # name, customers, distinct values, top values, last modified, defined, description
    ("billing_method", 3, 2, [("invoice", 2), ("card", 1)], T3, False, ""),
    ("billing_methods", 1, 1, [("card", 1)], T2, False, ""),
    ("billingmethod", 1, 1, [("invoice", 1)], T1, False, ""),
    ("legacy_id", 1, 1, [("L-1", 1)], T3, False, ""),
    ("tier", 2, 2, [("gold", 1), ("silver", 1)], T2, True, "Service tier sold"),
]
EXPECTED_JSON = {
    "names": [
        {
            "attribute_name": "billing_method",
            "customers": 3,
            "distinct_values": 2,
            "top_values": [{"value": "invoice", "count": 2}, {"value": "card", "count": 1}],
            "last_modified": "2025-03-15 17:45:05",
            "defined": False,
            "description": "",
        },
        {
            "attribute_name": "billing_methods",
            "customers": 1,
            "distinct_values": 1,
            "top_values": [{"value": "card", "count": 1}],
            "last_modified": "2025-02-01 08:00:00",
            "defined": False,
            "description": "",
        },
        {
            "attribute_name": "billingmethod",
            "customers": 1,
            "distinct_values": 1,
            "top_values": [{"value": "invoice", "count": 1}],
            "last_modified": "2025-01-04 10:30:00",
            "defined": False,
            "description": "",
        },
        {
            "attribute_name": "legacy_id",
            "customers": 1,
            "distinct_values": 1,
            "top_values": [{"value": "L-1", "count": 1}],
            "last_modified": "2025-03-15 17:45:05",
            "defined": False,
            "description": "",
        },
        {
            "attribute_name": "tier",
            "customers": 2,
            "distinct_values": 2,
            "top_values": [{"value": "gold", "count": 1}, {"value": "silver", "count": 1}],
            "last_modified": "2025-02-01 08:00:00",
            "defined": True,
            "description": "Service tier sold",
        },
    ],
    "unused_definitions": [{"attribute_name": "churn_flag", "description": "Set by the churn model"}],
    "undefined_names": ["billing_method", "billing_methods", "billingmethod", "legacy_id"],
    "near_duplicates": [["billing_method", "billing_methods", "billingmethod"]],
}
EXPECTED_COUNTS = {
    "names_count": 5,
    "unused_definitions_count": 1,
    "undefined_names_count": 4,
    "near_duplicates_count": 1,
}


def figures(report) -> list[tuple]:
    return [
        (u.name, u.customers, u.distinct_values, u.top_values, u.last_modified, u.defined, u.description)
        for u in report.names
    ]


def add_names(count: int, prefix: str) -> None:
    """`count` more customers, each with `count` distinct names of two values each (a wider, deeper data set)."""
    for i in range(count):
        customer = make_customer()
        for j in range(count):
            make_attribute(customer, f"{prefix}{j}_x{j * 7}", f"v{i % 2}")


# --- the report -------------------------------------------------------------------------------------------------


def test_report_figures_on_known_data_set(dataset):
    refresh()
    report = usage_report()

    assert figures(report) == EXPECTED_NAMES
    assert [(d.name, d.description) for d in report.unused_definitions] == [("churn_flag", "Set by the churn model")]
    assert report.undefined == ["billing_method", "billing_methods", "billingmethod", "legacy_id"]
    assert report.near_duplicates == [["billing_method", "billing_methods", "billingmethod"]]


def test_report_keeps_five_most_common_values_per_name(db):
    values = ["a", "a", "a", "b", "b", "f", "e", "d", "c"]  # ties at one customer break by value
    for value in values:
        make_attribute(make_customer(), "region", value)
    refresh()

    [region] = usage_report().names

    assert (region.customers, region.distinct_values) == (9, 6)
    assert region.top_values == [("a", 3), ("b", 2), ("c", 1), ("d", 1), ("e", 1)]


def test_report_of_empty_database_is_empty(db):
    refresh()
    report = usage_report()

    assert (report.names, report.unused_definitions, report.undefined, report.near_duplicates) == ([], [], [], [])


def test_report_costs_the_same_queries_however_many_names(dataset):
    refresh()
    with CaptureQueriesContext(connection) as small:
        usage_report()
    add_names(12, "extra")
    refresh()
    with CaptureQueriesContext(connection) as large:
        report = usage_report()

    assert len(report.names) == 5 + 12
    assert len(small) == len(large) <= 8
    assert not any('attributes_attribute"' in q["sql"] for q in large.captured_queries)  # no attribute row read


@pytest.mark.parametrize(
    ("name", "form"),
    [("billing_method", "billingmethod"), ("billing_methods", "billingmethod"), ("status", "statu"), ("s", "s")],
)
def test_normalize_drops_underscores_and_plural_s(name, form):
    assert normalize(name) == form


def test_near_duplicates_groups_similar_spellings_and_leaves_distinct_names_alone():
    names = {"external_crm_id", "external_crn_id", "externalcrmids", "vlan_id", "vlan_ip", "tier", "tiers", "tie"}

    assert near_duplicates(names) == [["external_crm_id", "external_crn_id", "externalcrmids"], ["tier", "tiers"]]


# --- the Usage page ---------------------------------------------------------------------------------------------


def test_page_shows_figures_with_links_to_filtered_customer_list(client, login, dataset):
    refresh()
    login(VIEW)

    response = client.get(PAGE)

    assert response.status_code == 200
    assert figures(response.context["report"]) == EXPECTED_NAMES
    html = response.content.decode()
    for name in ("billing_method", "billing_methods", "billingmethod", "legacy_id", "tier"):
        assert f'href="/customers/?attribute_name={name}"' in html
    assert "churn_flag" in html and "Set by the churn model" in html
    assert "Service tier sold" in html
    assert "2025-03-15 17:45:05" in html
    assert "1 near-duplicate group" in html
    assert "Rename or merge a name" not in html  # a viewer may not rename


def test_page_offers_merge_into_most_used_spelling_to_those_who_may_rename(client, login, dataset):
    refresh()
    login(VIEW, "update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")

    html = client.get(PAGE).content.decode()

    assert "/attributes/rename/?old_name=billing_methods&amp;new_name=billing_method" in html
    assert "/attributes/rename/?old_name=billingmethod&amp;new_name=billing_method" in html


def test_page_query_count_does_not_grow_with_names(client, login, dataset):
    refresh()
    login(VIEW)
    with CaptureQueriesContext(connection) as small:
        assert client.get(PAGE).status_code == 200
    add_names(12, "more")
    refresh()
    with CaptureQueriesContext(connection) as large:
        assert client.get(PAGE).status_code == 200

    assert len(small) == len(large)


def test_page_redirects_anonymous_to_login(client, db):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_page_requires_view_permission(client, login, dataset):
    login("view_customer")

    assert client.get(PAGE).status_code == 403


def test_navbar_links_to_usage_only_with_view_permission(client, login, db):
    login("view_customer", VIEW)
    assert f'href="{PAGE}"' in client.get("/customers/").content.decode()

    login("view_customer")
    assert f'href="{PAGE}"' not in client.get("/customers/").content.decode()


# --- the API ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [API, API + "/"])
def test_api_returns_the_report(dataset, path):
    refresh()
    response = bearer_client(make_user(VIEW)).get(path)

    assert response.status_code == 200
    body = response.json()
    assert body.pop("as_of") == UsageState.objects.get().refreshed_at.strftime("%Y-%m-%d %H:%M:%S")
    assert body == EXPECTED_JSON | EXPECTED_COUNTS
    assert response["X-Total-Count"] == "5"


def test_api_query_count_does_not_grow_with_names(dataset):
    refresh()
    api = bearer_client(make_user(VIEW))
    api.get(API)  # the token's first use records itself; count from the second request
    with CaptureQueriesContext(connection) as small:
        assert api.get(API).status_code == 200
    add_names(12, "more")
    refresh()
    with CaptureQueriesContext(connection) as large:
        assert api.get(API).status_code == 200

    assert len(small) == len(large)


def test_api_requires_authentication(db):
    assert APIClient().get(API).status_code == 401


def test_api_requires_view_permission(dataset):
    response = bearer_client(make_user("view_customer", "create_customer_attribute")).get(API)

    assert response.status_code == 403
    assert "view_customer_attribute" in response.json()["detail"]


def test_api_usage_is_documented(client):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/crm/attribute/usage"]["get"]  # served with and without the slash

    assert operation["operationId"] == "attribute_usage"
    assert "view_customer_attribute" in operation["description"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/UsageReport"}
    assert set(schema["components"]["schemas"]["UsageReport"]["properties"]) == {"as_of"} | set(EXPECTED_JSON) | set(
        EXPECTED_COUNTS
    )
    assert {p["name"] for p in operation["parameters"]} >= {"name_prefix", "limit", "offset"}


def test_page_suggests_merging_into_the_defined_spelling(client, login, dataset):
    refresh()
    AttributeDefinition.objects.create(name="billing_methods", description="How the customer pays")
    login(VIEW, "update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")

    html = client.get(PAGE).content.decode()

    assert "/attributes/rename/?old_name=billing_method&amp;new_name=billing_methods" in html
    assert "/attributes/rename/?old_name=billingmethod&amp;new_name=billing_methods" in html
