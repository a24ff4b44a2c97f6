"""GET /crm/attribute/customer_id/{id}/history and /crm/attribute/attribute_id/{id}/history."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from attributes import services
from tests.factories import make_attribute, make_customer, make_user

from .conftest import ALL, CREATE, DELETE, UPDATE, VIEW, bearer, history_rows

pytestmark = pytest.mark.django_db

KEYS = {
    "history_id",
    "request_id",
    "attribute_id",
    "customer_id",
    "action",
    "operation",
    "attribute_name",
    "attribute_value",
    "previous_name",
    "previous_value",
    "changed_at",
    "changed_by",
    "token_name",
    "channel",
}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def for_customer(customer_id) -> str:
    return f"/crm/attribute/customer_id/{customer_id}/history"


def for_attribute(attribute_id) -> str:
    return f"/crm/attribute/attribute_id/{attribute_id}/history"


@pytest.fixture
def viewer(db):
    return bearer(make_user(VIEW), "auditor")


@pytest.fixture
def story(customer):
    """Through the API with a token: create, rename, change the value, delete. Returns the attribute id."""
    writer = bearer(make_user(*ALL, username="integration"), "billing-sync")
    created = writer.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "billingmethod", "attribute_value": "card"},
        format="json",
    ).json()
    path = f"/crm/attribute/attribute_id/{created['attribute_id']}"
    writer.patch(path, {"attribute_name": "billing_method"}, format="json")
    writer.patch(path, {"attribute_value": "invoice"}, format="json")
    writer.delete(path)
    return created["attribute_id"]


def test_customer_history_has_the_documented_shape_newest_first(viewer, customer, story):
    response = viewer.get(for_customer(customer.pk))

    assert response.status_code == 200
    body = response.json()
    assert all(set(item) == KEYS for item in body)
    assert all(TIMESTAMP_RE.match(item["changed_at"]) for item in body)
    assert len({item["request_id"] for item in body}) == len(body)  # each write was a request of its own
    common = {
        "attribute_id": story,
        "customer_id": customer.pk,
        "changed_by": "integration",
        "token_name": "billing-sync",
        "channel": "api",
    }
    trimmed = [{k: v for k, v in item.items() if k not in {"history_id", "changed_at", "request_id"}} for item in body]
    assert trimmed == [
        {
            **common,
            "action": "deleted",
            "operation": "delete",
            "attribute_name": "billing_method",
            "attribute_value": "invoice",
            "previous_name": "",
            "previous_value": "",
        },
        {
            **common,
            "action": "updated",
            "operation": "update",
            "attribute_name": "billing_method",
            "attribute_value": "invoice",
            "previous_name": "",
            "previous_value": "card",
        },
        {
            **common,
            "action": "updated",
            "operation": "rename",
            "attribute_name": "billing_method",
            "attribute_value": "card",
            "previous_name": "billingmethod",
            "previous_value": "",
        },
        {
            **common,
            "action": "created",
            "operation": "create",
            "attribute_name": "billingmethod",
            "attribute_value": "card",
            "previous_name": "",
            "previous_value": "",
        },
    ]
    assert [item["history_id"] for item in body] == [r.history_id for r in reversed(history_rows())]
    assert response["X-Total-Count"] == "4"
    assert "Link" not in response


def test_changed_at_is_the_change_time_in_the_configured_time_zone(viewer, customer, attribute):
    row = history_rows(attribute_id=attribute.pk)[0]

    body = viewer.get(for_attribute(attribute.pk)).json()

    assert body[0]["changed_at"] == timezone.localtime(row.history_date).strftime("%Y-%m-%d %H:%M:%S")


def test_system_writes_have_empty_actor_and_token(viewer, attribute):
    item = viewer.get(for_attribute(attribute.pk)).json()[0]

    assert (item["changed_by"], item["token_name"], item["channel"]) == ("", "", "system")


def test_deleted_attributes_history_is_still_served(viewer, story):
    response = viewer.get(for_attribute(story))

    assert response.status_code == 200
    assert [item["operation"] for item in response.json()] == ["delete", "update", "rename", "create"]


def test_attribute_history_lists_only_that_attribute(viewer, customer, attribute):
    other = make_attribute(customer, "billing_plan", "annual")
    services.attribute_update(attribute=other, value="monthly", actor=None)

    body = viewer.get(for_attribute(attribute.pk)).json()

    assert {item["attribute_id"] for item in body} == {attribute.pk}
    assert len(body) == 1


def test_customer_history_lists_only_that_customers_rows(viewer, customer, attribute):
    make_attribute(make_customer(), "external_crm_id", "OTHER")

    body = viewer.get(for_customer(customer.pk)).json()

    assert {item["customer_id"] for item in body} == {customer.pk}
    assert [item["attribute_value"] for item in body] == ["SF-12345"]


def test_customer_without_changes_has_an_empty_history(viewer, customer):
    response = viewer.get(for_customer(customer.pk))

    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


def test_history_is_paged_with_link_and_total_count_headers(viewer, customer, attribute):
    for n in range(4):
        services.attribute_update(attribute=attribute, value=f"SF-{n}", actor=None)
    newest_first = [r.history_id for r in reversed(history_rows(customer_id=customer.pk))]

    first = viewer.get(for_customer(customer.pk), {"limit": 2})
    second = viewer.get(for_customer(customer.pk), {"limit": 2, "offset": 2})
    last = viewer.get(for_attribute(attribute.pk), {"limit": 2, "offset": 4})

    assert first["X-Total-Count"] == second["X-Total-Count"] == last["X-Total-Count"] == "5"
    assert [i["history_id"] for i in first.json()] == newest_first[:2]
    assert [i["history_id"] for i in second.json()] == newest_first[2:4]
    assert [i["history_id"] for i in last.json()] == newest_first[4:]
    assert 'rel="next"' in first["Link"] and "offset=2" in first["Link"] and 'rel="prev"' not in first["Link"]
    assert 'rel="next"' in second["Link"] and 'rel="prev"' in second["Link"]
    assert 'rel="next"' not in last["Link"] and 'rel="prev"' in last["Link"]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "x"}, {"offset": "-1"}])
def test_bad_paging_parameters_are_a_400(viewer, customer, params):
    assert viewer.get(for_customer(customer.pk), params).status_code == 400


def test_trailing_slash_is_accepted(viewer, customer, attribute):
    assert viewer.get(for_customer(customer.pk) + "/").status_code == 200
    assert viewer.get(for_attribute(attribute.pk) + "/").status_code == 200


@pytest.mark.parametrize("path", [for_customer, for_attribute])
def test_history_needs_view_permission(path, attribute):
    writer = bearer(make_user(CREATE, UPDATE, DELETE))

    response = writer.get(path(attribute.customer_id if path is for_customer else attribute.pk))

    assert response.status_code == 403
    assert "view_customer_attribute" in response.json()["detail"]


@pytest.mark.parametrize("path", [for_customer, for_attribute])
def test_history_needs_credentials(path, attribute):
    response = APIClient().get(path(attribute.customer_id if path is for_customer else attribute.pk))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_customer_is_404(viewer):
    assert viewer.get(for_customer(999999)).status_code == 404
    assert viewer.get(for_customer("99999999999999999999")).status_code == 404


def test_attribute_id_without_history_is_404(viewer, attribute):
    assert viewer.get(for_attribute(attribute.pk + 1000)).status_code == 404
    assert viewer.get(for_attribute("99999999999999999999")).status_code == 404


def test_deleted_customers_history_is_gone(viewer, customer, attribute):
    customer.delete()

    assert viewer.get(for_customer(customer.pk)).status_code == 404
    assert viewer.get(for_attribute(attribute.pk)).status_code == 404


def test_history_is_read_only(viewer, customer, attribute):
    admin = bearer(make_user(*ALL))

    assert admin.post(for_customer(customer.pk), {}, format="json").status_code == 405
    assert admin.delete(for_attribute(attribute.pk)).status_code == 405
    assert viewer.get(for_attribute(attribute.pk)).status_code == 200


def test_history_query_count_does_not_grow_with_the_rows(viewer, customer):
    small, large = customer, make_customer()
    for target, count in ((small, 2), (large, 40)):
        attribute = make_attribute(target, "counter", "0")
        for n in range(1, count):
            services.attribute_update(attribute=attribute, value=str(n), actor=None)
    viewer.get(for_customer(small.pk))

    with CaptureQueriesContext(connection) as two:
        assert len(viewer.get(for_customer(small.pk)).json()) == 2
    with CaptureQueriesContext(connection) as forty:
        assert len(viewer.get(for_customer(large.pk)).json()) == 40

    assert len(forty) == len(two)
