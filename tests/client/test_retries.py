"""The retry policy over a real wire: what is sent again, what is not, and what waits how long.

The proxy breaks the connection or answers 429/503 itself; the server and its database are real. The client's
`sleep` records the waits instead of waiting (`recorded_sleeps`).
"""

import pytest
from crm_attributes_client import RateLimited, ServiceUnavailable, TransportError
from rest_framework.throttling import UserRateThrottle

from attributes.models import Attribute
from events.models import Event
from tests.factories import make_customer
from webhooks.models import Webhook

from .conftest import ALL_ATTRIBUTE_PERMS


@pytest.fixture
def via_proxy(crm, proxy):
    return crm(*ALL_ATTRIBUTE_PERMS, "manage_webhooks", url=proxy.url)


def test_a_get_is_retried_after_a_503_honouring_retry_after(via_proxy, proxy, recorded_sleeps):
    customer = make_customer()
    proxy.answer(503, headers={"Retry-After": "2"}, body=b'{"detail": "The database is unavailable."}')

    assert via_proxy.attributes(customer.pk) == []

    assert [s.forwarded for s in proxy.seen] == [False, True]
    assert recorded_sleeps == [2.0]


def test_a_429_is_retried_after_retry_after_even_for_a_post(via_proxy, proxy, recorded_sleeps, receiver):
    proxy.answer(429, headers={"Retry-After": "3"}, body=b'{"detail": "Request was throttled."}')

    via_proxy.create_webhook(receiver.url)

    assert Webhook.objects.count() == 1
    assert [s.method for s in proxy.seen] == ["POST", "POST"]
    assert recorded_sleeps == [3.0]


def test_retries_back_off_exponentially_then_raise_with_retry_after(crm, proxy, recorded_sleeps):
    client = crm("view_customer_attribute", url=proxy.url, retries=3, backoff=1.0)
    for _ in range(4):
        proxy.answer(503)

    with pytest.raises(ServiceUnavailable) as raised:
        client.attributes(make_customer().pk)

    assert len(proxy.seen) == 4
    assert len(recorded_sleeps) == 3
    for attempt, wait in enumerate(recorded_sleeps):
        assert 0.5 * 2**attempt <= wait <= 2**attempt  # backoff doubles, with jitter
    assert raised.value.retry_after is None


def test_a_real_throttle_429_longer_than_max_retry_after_is_raised_with_retry_after(crm, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "2/min"})
    client = crm("view_customer_attribute", max_retry_after=5)
    customer = make_customer()
    client.attributes(customer.pk)
    client.attributes(customer.pk)

    with pytest.raises(RateLimited) as raised:
        client.attributes(customer.pk)

    assert raised.value.status == 429
    assert raised.value.retry_after is not None and 5 < raised.value.retry_after <= 60


def test_a_post_whose_answer_was_lost_is_not_sent_again(via_proxy, proxy, receiver):
    proxy.cut(after_bytes=0)  # the server creates the webhook; its answer never arrives

    with pytest.raises(TransportError) as raised:
        via_proxy.create_webhook(receiver.url)

    assert "not retried" in str(raised.value)
    assert len(proxy.seen) == 1
    assert Webhook.objects.count() == 1  # created once, not twice


def test_a_post_answered_503_is_not_sent_again(via_proxy, proxy, receiver):
    proxy.answer(503, body=b'{"detail": "The database is unavailable."}')

    with pytest.raises(ServiceUnavailable) as raised:
        via_proxy.create_webhook(receiver.url)

    assert "database is unavailable" in str(raised.value)
    assert len(proxy.seen) == 1
    assert not Webhook.objects.exists()


def test_a_patch_without_if_match_whose_answer_was_lost_is_not_sent_again(via_proxy, proxy):
    customer = make_customer()
    attribute = via_proxy.upsert(customer.pk, "billing_cycle", "monthly")
    proxy.cut(after_bytes=0)

    with pytest.raises(TransportError):
        via_proxy.update(attribute.attribute_id, value="quarterly")

    assert [s.method for s in proxy.seen] == ["PUT", "PATCH"]
    assert Attribute.objects.get().attribute_value == "quarterly"


def test_a_patch_with_if_match_is_retried_and_its_own_412_counts_as_done(via_proxy, proxy):
    customer = make_customer()
    attribute = via_proxy.upsert(customer.pk, "billing_cycle", "monthly")
    proxy.cut(after_bytes=0)

    updated = via_proxy.update(attribute.attribute_id, value="quarterly", if_match=attribute.etag)

    assert updated.attribute_value == "quarterly"
    assert [s.method for s in proxy.forwarded] == ["PUT", "PATCH", "PATCH"]  # the second attempt got a 412
    assert Attribute.objects.get().attribute_value == "quarterly"
    assert list(Event.objects.order_by("pk").values_list("type", flat=True)) == [
        "attribute.created",
        "attribute.updated",
    ]


def test_a_put_whose_answer_was_cut_mid_body_is_retried_and_writes_once(via_proxy, proxy):
    customer = make_customer()
    proxy.cut(after_bytes=-20)

    attribute = via_proxy.upsert(customer.pk, "support_tier", "premium")

    assert attribute.attribute_value == "premium"
    assert proxy.cuts == 1 and len(proxy.forwarded) == 2
    assert Attribute.objects.count() == 1
    assert Event.objects.count() == 1  # the repeat was an unchanged write


def test_a_create_only_put_retried_after_a_lost_answer_returns_its_own_write(via_proxy, proxy):
    customer = make_customer()
    proxy.cut(after_bytes=0)

    attribute = via_proxy.upsert(customer.pk, "external_crm_id", "SF-1", create_only=True)

    assert attribute.attribute_value == "SF-1"
    assert len(proxy.forwarded) == 2
    assert Attribute.objects.count() == 1


def test_a_create_only_put_still_refuses_someone_elses_value_on_a_retry(via_proxy, proxy, writer):
    from crm_attributes_client import PreconditionFailed

    customer = make_customer()
    writer.upsert(customer.pk, "external_crm_id", "SF-THEIRS")
    proxy.cut(after_bytes=0)  # our first attempt's 412 is lost; the retry's 412 holds another value

    with pytest.raises(PreconditionFailed):
        via_proxy.upsert(customer.pk, "external_crm_id", "SF-MINE", create_only=True)

    assert Attribute.objects.get().attribute_value == "SF-THEIRS"


def test_a_delete_whose_answer_was_lost_is_retried_and_its_404_counts_as_done(via_proxy, proxy):
    customer = make_customer()
    attribute = via_proxy.upsert(customer.pk, "vlan_id", "100")
    proxy.cut(after_bytes=0)

    via_proxy.delete(attribute.attribute_id)

    assert [s.method for s in proxy.forwarded] == ["PUT", "DELETE", "DELETE"]
    assert not Attribute.objects.exists()


def test_a_refused_connection_is_retried_then_raised(crm, recorded_sleeps):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    client = crm("view_customer_attribute", url=f"http://127.0.0.1:{port}", retries=2)

    with pytest.raises(TransportError) as raised:
        client.attributes(1)

    assert "ConnectError" in str(raised.value)
    assert len(recorded_sleeps) == 2
    assert client.requests_sent == 3
