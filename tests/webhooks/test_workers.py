"""Delivery on real worker processes (`run_worker`), to the real local receiver."""

import time

import pytest

from attributes.models import Attribute
from events.models import Event
from tests.factories import bearer_client, make_customer, make_user
from tests.workers import wait_for
from webhooks.models import Delivery
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db(transaction=True)
WORKER_ENV = {
    "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
    "WEBHOOKS_RETRY_SCHEDULE": "1,1,1,1,1,1,1,1,1,1",
    "WEBHOOKS_IDLE_SECONDS": "30",
    "WEBHOOKS_DISPATCH_SECONDS": "1",
}


@pytest.fixture
def subscribed(receiver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    _, secret = webhook_create(actor=None, url=receiver.url, event_types=["*"], attribute_names=[])
    receiver.secrets.append(secret)


def bulk_put(items: list[dict]):
    client = bearer_client(make_user("create_customer_attribute", "update_customer_attribute"))
    response = client.put("/crm/attribute/bulk/", items, format="json")
    assert response.status_code == 200, response.content
    return response


def test_a_1000_item_bulk_put_delivers_1000_signed_events_within_10_seconds(workers, receiver, subscribed):
    customers = [make_customer() for _ in range(50)]
    worker = workers.start(**WORKER_ENV)
    items = [
        {"customer_id": c.pk, "attribute_name": f"name_{i}", "attribute_value": str(i)}
        for c in customers
        for i in range(20)
    ]
    bulk_put(items)
    started = time.monotonic()

    wait_for(lambda: len(receiver.accepted()) >= 1000, timeout=10, message=f"1000 deliveries\n{workers.logs()}")

    assert time.monotonic() - started < 10
    assert worker.process.poll() is None
    messages = receiver.accepted()
    assert len({m.message_id for m in messages}) == 1000
    assert all(m.verified_with == [0] for m in messages)
    assert {m.message_id for m in messages} == {str(e) for e in Event.objects.values_list("event_id", flat=True)}


def test_kill_9_of_a_worker_mid_delivery_loses_nothing(workers, receiver, subscribed):
    customers = [make_customer() for _ in range(4)]
    delivered_slowly = []

    def slow(message):  # keeps the worker inside a delivery when it is killed
        delivered_slowly.append(message.message_id)
        time.sleep(0.05)
        return 204

    receiver.answer = slow
    first = workers.start("first", **WORKER_ENV)
    bulk_put([{"customer_id": c.pk, "attribute_name": f"n{i}", "attribute_value": f"{c.pk}-{i}"}
              for c in customers for i in range(50)])  # fmt: skip
    wait_for(lambda: len(delivered_slowly) >= 20, timeout=30, message=f"deliveries started\n{workers.logs()}")
    first.kill()
    before_restart = len({m.message_id for m in receiver.accepted()})
    assert before_restart < 200

    workers.start("second", **WORKER_ENV)
    wait_for(
        lambda: len({m.message_id for m in receiver.accepted()}) >= 200,
        timeout=60,
        message=f"every event after the kill\n{workers.logs()}",
    )

    wait_for(lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists(), timeout=30)
    ids = {str(e) for e in Event.objects.values_list("event_id", flat=True)}
    assert {m.message_id for m in receiver.accepted()} == ids  # at least once: duplicates allowed, losses not
    for customer in customers:  # and in order for each customer, duplicates aside
        seen = []
        for message in receiver.accepted():
            value = message.body["data"]["data"]["attribute_value"]
            if message.body["data"]["customer_id"] == customer.pk and value not in seen:
                seen.append(value)
        in_sequence = Event.objects.filter(customer_id=customer.pk).order_by("sequence")
        assert seen == list(in_sequence.values_list("attribute_value", flat=True))
        assert len(seen) == 50
    assert Attribute.objects.count() == 200
