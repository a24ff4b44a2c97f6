"""A change-feed reader polling while 8 writers commit concurrently sees every event exactly once, in order.

Writers hold their transaction open a random moment after writing, so numbers allocated early often commit late:
the case a sequence given at insert gets wrong (see `events.services.events_sequence`).
"""

import random
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from attributes import services
from events.models import Event
from tests.factories import bearer_client, make_customer, make_user

WRITERS, WRITES = 8, 25


@pytest.mark.django_db(transaction=True)
def test_reader_concurrent_with_8_writers_sees_every_event_once_in_sequence_order():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: there is no interleaving to test")
    customers = [make_customer() for _ in range(WRITERS)]
    reader: APIClient = bearer_client(make_user("view_customer_attribute"))
    errors: list[BaseException] = []

    def write(customer) -> None:
        try:
            rng = random.Random(customer.pk)
            for i in range(WRITES):
                with transaction.atomic():
                    services.attribute_upsert(customer=customer, name=f"n{i % 5}", value=f"v{i}", actor=None)
                    time.sleep(rng.random() * 0.02)  # commit late: others commit meanwhile
        except BaseException as error:  # noqa: BLE001 (reported by the test thread)
            errors.append(error)
        finally:
            connection.close()

    seen: list[dict] = []
    pages_while_writing = 0

    def read_all(after: int) -> int:
        nonlocal pages_while_writing
        while True:
            writing = any(t.is_alive() for t in threads)
            page = reader.get(f"/crm/event/?after={after}&limit=7").json()
            seen.extend(page["events"])
            pages_while_writing += writing and bool(page["events"])
            if not page["events"]:
                return after
            after = page["next"]

    threads = [threading.Thread(target=write, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    after = 0
    while any(t.is_alive() for t in threads):
        after = read_all(after)
    for thread in threads:
        thread.join()
    read_all(after)

    assert not errors, errors
    assert pages_while_writing > 5  # the reader really read while writers were committing
    sequences = [e["sequence"] for e in seen]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    stored = set(Event.objects.values_list("event_id", flat=True))
    assert len(seen) == len(stored) == WRITERS * WRITES
    assert {e["event_id"] for e in seen} == {str(s) for s in stored}
    assert sequences == list(range(1, WRITERS * WRITES + 1))
