"""Concurrent writers over real HTTP: the database's unique constraint, not luck, keeps one row per name."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connections

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


def test_bulk_puts_deletes_and_single_puts_over_the_same_keys_never_answer_5xx(live_server, transactional_db):
    """The probe's contention at CI size: 8 bulk writers, 6 deleters and 6 single PUTs over 40 keys, a few seconds."""
    user = make_user(
        "view_customer_attribute", "create_customer_attribute", "update_customer_attribute", "delete_customer_attribute"
    )
    _, raw = ApiToken.issue(user=user, name="contention")
    headers = {"Authorization": f"Bearer {raw}"}
    base = f"{live_server.url}/crm/attribute/"
    customers = [make_customer().pk for _ in range(4)]
    keys = [(c, f"key_{n}") for c in customers for n in range(10)]
    barrier = threading.Barrier(20)
    deadline_after = 3.0

    def bulk(rng, session):
        items = [
            {"customer_id": c, "attribute_name": n, "attribute_value": f"v{rng.randrange(3)}"}
            for c, n in rng.sample(keys, 15)
        ]
        return session.put(base + "bulk/", json=items, headers=headers, timeout=60)

    def delete(rng, session):
        customer_id, name = rng.choice(keys)
        pk = Attribute.objects.filter(customer_id=customer_id, attribute_name=name).values_list("pk", flat=True).first()
        if pk is None:
            return None
        return session.delete(f"{base}attribute_id/{pk}", headers=headers, timeout=60)

    def put(rng, session):
        customer_id, name = rng.choice(keys)
        body = {"customer_id": customer_id, "attribute_name": name, "attribute_value": f"v{rng.randrange(3)}"}
        return session.put(base, json=body, headers=headers, timeout=60)

    def worker(seed: int, send) -> list[tuple[str, int, str]]:
        rng, seen = random.Random(seed), []
        try:
            with requests.Session() as session:
                barrier.wait(timeout=30)
                deadline = time.monotonic() + deadline_after
                for _ in range(40):
                    if time.monotonic() > deadline:
                        break
                    response = send(rng, session)
                    if response is not None:
                        seen.append((send.__name__, response.status_code, response.text[:200]))
        finally:
            connections.close_all()
        return seen

    senders = [bulk] * 8 + [delete] * 6 + [put] * 6
    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        answers = [a for f in [pool.submit(worker, i, s) for i, s in enumerate(senders)] for a in f.result()]

    assert [a for a in answers if a[1] >= 500] == []
    assert {status for kind, status, _ in answers if kind == "bulk"} == {200}
    assert {status for kind, status, _ in answers if kind == "delete"} <= {200, 204, 404}
    assert sum(1 for kind, _, _ in answers if kind == "bulk") >= 8
    for attribute in Attribute.objects.all():  # the rows and their history agree
        newest = Attribute.history.filter(attribute_id=attribute.pk).order_by("-history_id").first()
        assert newest.history_type != "-"
        assert (newest.attribute_name, newest.attribute_value) == (attribute.attribute_name, attribute.attribute_value)
