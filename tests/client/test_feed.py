"""The change feed iterator: every event once, in order, across pages, dropped connections and restarts."""

import pytest

from tests.factories import make_customer


@pytest.fixture
def changes(writer):
    """250 committed changes (a bulk of 240 creates, then 10 single updates): 250 events."""
    customers = [make_customer() for _ in range(4)]
    writer.bulk_upsert((customers[n % 4].pk, f"name_{n // 4}", "1") for n in range(240))
    for n in range(10):
        writer.upsert(customers[0].pk, f"name_{n}", "2")
    return customers


def test_the_iterator_reads_every_page_then_stops_when_caught_up(crm, changes):
    client = crm("view_customer_attribute")

    events = list(client.events(limit=100))

    sequences = [e.sequence for e in events]
    assert len(events) == 250
    assert sequences == sorted(set(sequences))
    assert [e.type for e in events[-10:]] == ["attribute.updated"] * 10
    assert events[-1].data.previous_value == "1" and events[-1].data.attribute_value == "2"
    assert events[0].actor.channel == "api" and events[0].batch_id is not None


def test_a_connection_killed_mid_page_resumes_from_the_last_sequence_without_loss_or_repeat(crm, proxy, changes):
    client = crm("view_customer_attribute", url=proxy.url)
    stream = client.events(limit=100)
    received = []

    for event in stream:
        received.append(event.sequence)
        if len(received) == 100:  # the first page is in; the next page's answer dies mid-body
            proxy.cut(after_bytes=-50)

    expected = [e.sequence for e in crm("view_customer_attribute").events(limit=1000)]
    assert proxy.cuts == 1
    assert received == expected and len(received) == 250
    feed_requests = [s.path for s in proxy.seen]
    assert feed_requests[1] == feed_requests[2]  # the lost page was asked for again, from the same sequence
    assert f"after={received[99]}" in feed_requests[2]
    assert stream.position == received[-1]


def test_a_stored_position_resumes_in_a_new_client(crm, changes, writer):
    first = crm("view_customer_attribute")
    stream = first.events(limit=30)
    seen = []
    for event in stream:
        seen.append(event.sequence)
        if len(seen) == 45:
            break
    stored = stream.position
    first.close()
    writer.upsert(changes[1].pk, "late", "1")  # committed while nobody reads

    rest = [e.sequence for e in crm("view_customer_attribute").events(after=stored)]

    everything = [e.sequence for e in crm("view_customer_attribute").events(limit=1000)]
    assert seen + rest == everything and len(everything) == 251


def test_filters_narrow_the_feed(crm, changes):
    client = crm("view_customer_attribute")

    updates = list(client.events(type="attribute.updated"))
    one_customer = list(client.events(customer_id=changes[1].pk, limit=1000))

    assert len(updates) == 10
    assert {e.customer_id for e in one_customer} == {changes[1].pk} and len(one_customer) == 60


def test_follow_waits_and_picks_up_new_events(crm, writer):
    customer = make_customer()
    waits = []

    def write_while_waiting(seconds):
        waits.append(seconds)
        if len(waits) == 1:
            writer.upsert(customer.pk, "after_the_wait", "1")

    client = crm("view_customer_attribute", sleep=write_while_waiting)
    writer.upsert(customer.pk, "before", "1")
    iterator = iter(client.events(follow=True, poll_interval=7))

    names = [next(iterator).data.attribute_name, next(iterator).data.attribute_name]

    assert names == ["before", "after_the_wait"]
    assert waits == [7]


def test_the_feed_needs_the_view_permission(crm):
    from crm_attributes_client import PermissionDenied

    with pytest.raises(PermissionDenied):
        list(crm("create_customer_attribute").events())
