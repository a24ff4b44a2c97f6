"""Concurrent writers over real HTTP: the database's unique constraint, not luck, keeps one row per name."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from attributes.models import Attribute
from tests.factories import make_customer, make_user
from tokens.models import ApiToken

WRITERS = 16


@pytest.fixture
def writer(live_server, transactional_db):
    user = make_user("create_customer_attribute", "update_customer_attribute")
    _, raw = ApiToken.issue(user=user, name="concurrency")
    return {"url": f"{live_server.url}/crm/attribute/", "headers": {"Authorization": f"Bearer {raw}"}}


def put_all_at_once(writer: dict, bodies: list[dict]) -> list[requests.Response]:
    """Send every body from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(bodies))

    def put(body):
        barrier.wait()
        return requests.put(writer["url"], json=body, headers=writer["headers"], timeout=120)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(put, bodies))


def test_concurrent_puts_of_one_name_make_exactly_one_row_and_one_201(writer):
    customer = make_customer()
    bodies = [
        {"customer_id": customer.pk, "attribute_name": "sync_state", "attribute_value": f"run-{n}"}
        for n in range(WRITERS)
    ]

    responses = put_all_at_once(writer, bodies)

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 201}, [(r.status_code, r.text) for r in responses]
    assert statuses.count(201) == 1
    row = Attribute.objects.get(customer=customer, attribute_name="sync_state")
    assert {r.json()["attribute_id"] for r in responses} == {row.pk}
    assert row.attribute_value in {body["attribute_value"] for body in bodies}


def test_concurrent_puts_of_distinct_names_all_create(writer):
    customer = make_customer()
    bodies = [
        {"customer_id": customer.pk, "attribute_name": f"name_{n}", "attribute_value": "v"} for n in range(WRITERS)
    ]

    responses = put_all_at_once(writer, bodies)

    assert [r.status_code for r in responses] == [201] * WRITERS
    assert Attribute.objects.filter(customer=customer).count() == WRITERS
    assert len({r.json()["attribute_id"] for r in responses}) == WRITERS
