"""Delivery in-process (`dispatch_once`, what the job runs): signed per Standard Webhooks, filtered, retried, in
order per customer, guarded against private destinations. The real receiver verifies every signature."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from attributes import services
from tests.factories import make_attribute, make_customer
from webhooks import transport
from webhooks.models import Delivery, Webhook
from webhooks.services import dispatch_once, webhook_create, webhook_rotate_secret

pytestmark = pytest.mark.django_db


def values(receiver) -> list[str]:
    return [m.body["data"]["data"]["attribute_value"] for m in receiver.accepted()]


def test_each_event_arrives_signed_with_the_standard_headers_and_body(hook, receiver, customer):
    attribute = make_attribute(customer, "vlan_id", "100")

    assert dispatch_once() == 2  # one delivery queued, one sent
    [message] = receiver.accepted()
    assert message.verified_with == [0]
    assert message.headers["webhook-signature"].startswith("v1,")
    assert int(message.headers["webhook-timestamp"]) == pytest.approx(timezone.now().timestamp(), abs=10)
    assert set(message.body) == {"type", "timestamp", "data"}
    event = message.body["data"]
    assert message.message_id == event["event_id"]
    assert (message.body["type"], event["type"], event["customer_id"], event["data"]["attribute_id"]) == (
        "attribute.created", "attribute.created", customer.pk, attribute.pk,
    )  # fmt: skip
    assert dispatch_once() == 0  # delivered once; nothing more to do


def test_a_rolled_back_write_delivers_nothing(hook, receiver, customer):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_attribute(customer, "vlan_id", "100")
        raise RuntimeError

    dispatch_once()

    assert receiver.received == [] and not Delivery.objects.exists()


def test_event_type_and_name_filters_choose_what_is_sent(manager, receiver, private_networks, customer):
    body = manager.post(
        "/crm/webhook/",
        {"url": receiver.url, "event_types": ["attribute.updated"], "attribute_names": ["billing_*"]},
        format="json",
    ).json()
    receiver.secrets.append(body["secret"])
    billing = make_attribute(customer, "billing_cycle", "monthly")  # created: not subscribed
    services.attribute_update(attribute=billing, name="billing_cycle", value="quarterly", actor=None)
    vlan = make_attribute(customer, "vlan_id", "1")
    services.attribute_update(attribute=vlan, name="vlan_id", value="2", actor=None)  # name not subscribed

    dispatch_once()

    assert [(m.body["type"], m.body["data"]["data"]["attribute_value"]) for m in receiver.accepted()] == [
        ("attribute.updated", "quarterly")
    ]


def test_events_committed_before_the_webhook_existed_are_not_sent(manager, receiver, private_networks, customer):
    make_attribute(customer, "vlan_id", "old")
    body = manager.post("/crm/webhook/", {"url": receiver.url, "event_types": ["*"]}, format="json").json()
    receiver.secrets.append(body["secret"])
    make_attribute(customer, "plan", "new")

    dispatch_once()

    assert values(receiver) == ["new"]


def test_a_disabled_webhook_receives_nothing(manager, hook, receiver, customer):
    manager.patch(f"/crm/webhook/{hook['webhook_id']}", {"enabled": False}, format="json")
    make_attribute(customer, "vlan_id", "1")

    dispatch_once()

    assert receiver.received == []


def test_receiver_down_then_up_gets_every_event_in_order_per_customer(hook, receiver, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [0] * 20
    first, second = make_customer(), make_customer()
    receiver.answer = 503
    for i in range(5):
        for customer in (first, second):
            make_attribute(customer, "counter", f"{customer.pk}-{i}")
    for _ in range(3):
        dispatch_once()
    assert receiver.accepted() == [] and len(receiver.received) >= 2

    receiver.answer = 204
    for _ in range(10):
        dispatch_once()

    for customer in (first, second):
        got = [v for v in values(receiver) if v.startswith(f"{customer.pk}-")]
        assert got == [f"{customer.pk}-{i}" for i in range(5)]
    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 10
    assert Webhook.objects.get().failing_since is None and Webhook.objects.get().last_success


def test_a_failing_customer_does_not_hold_up_another(hook, receiver, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [3600]
    stuck, fine = make_customer(), make_customer()
    receiver.answer = lambda message: 500 if message.body["data"]["customer_id"] == stuck.pk else 204
    make_attribute(stuck, "a", "s1")
    make_attribute(fine, "a", "f1")
    make_attribute(stuck, "b", "s2")
    make_attribute(fine, "b", "f2")

    dispatch_once()

    assert values(receiver) == ["f1", "f2"]
    assert [m.body["data"]["data"]["attribute_value"] for m in receiver.received if m.status == 500] == ["s1"]


def test_retry_after_on_429_sets_the_next_attempt(hook, receiver, customer, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [5, 300]
    receiver.answer, receiver.retry_after = 429, "120"
    make_attribute(customer, "vlan_id", "1")

    dispatch_once()

    delivery = Delivery.objects.get()
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert delivery.status == Delivery.Status.PENDING and 100 < wait <= 120


def test_backoff_follows_the_schedule_with_jitter(hook, receiver, customer, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [300, 1800]
    receiver.answer = 500
    make_attribute(customer, "vlan_id", "1")

    dispatch_once()

    wait = (Delivery.objects.get().next_attempt_at - timezone.now()).total_seconds()
    assert 290 < wait <= 330 + 1


def test_410_disables_the_endpoint_and_says_so(hook, receiver, customer, client):
    receiver.answer = 410
    make_attribute(customer, "vlan_id", "1")

    dispatch_once()

    webhook = Webhook.objects.get()
    assert not webhook.enabled and "410" in webhook.disabled_reason
    assert Delivery.objects.get().status == Delivery.Status.FAILED


def test_five_days_of_failures_disable_the_endpoint(hook, receiver, customer, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [0] * 5
    receiver.answer = 500
    make_attribute(customer, "vlan_id", "1")
    dispatch_once()
    Webhook.objects.update(failing_since=timezone.now() - timedelta(days=5, minutes=1))

    dispatch_once()

    webhook = Webhook.objects.get()
    assert not webhook.enabled and "5 days" in webhook.disabled_reason


def test_rotation_signs_with_both_secrets_for_24_hours(hook, receiver, customer):
    new = webhook_rotate_secret(actor=None, webhook=Webhook.objects.get())
    receiver.secrets.append(new)
    make_attribute(customer, "vlan_id", "1")
    dispatch_once()
    [both] = receiver.accepted()

    Webhook.objects.update(previous_secret_expires=timezone.now() - timedelta(seconds=1))
    make_attribute(customer, "plan", "a")
    dispatch_once()
    [_, only_new] = receiver.accepted()

    assert both.verified_with == [0, 1]
    assert len(both.headers["webhook-signature"].split(" ")) == 2
    assert only_new.verified_with == [1]


def test_ssrf_guard_refuses_loopback_without_the_setting(receiver, settings, customer):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    webhook, secret = webhook_create(actor=None, url=receiver.url, event_types=["*"], attribute_names=[])
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False  # e.g. the setting turned off since
    settings.WEBHOOKS_RETRY_SCHEDULE = [3600]
    make_attribute(customer, "vlan_id", "1")

    dispatch_once()

    assert receiver.received == []
    attempt = Delivery.objects.get().attempt_log.get()
    assert attempt.status_code is None and "https" in attempt.error


def test_ssrf_guard_checks_the_resolved_address_at_delivery(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False

    # A name (not a literal address) passes when saved; "localhost" resolves to loopback, refused at delivery.
    assert transport.check_url("https://localhost:9/hook") == ("https", "localhost", 9)
    answer = transport.post("https://localhost:9/hook", b"{}", {})
    assert answer.status_code is None and ("127.0.0.1" in answer.error or "::1" in answer.error)
    with pytest.raises(transport.Refused):
        transport.check_url("http://127.0.0.1/hook")


def test_redirects_are_not_followed(hook, receiver, customer, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [3600]
    receiver.answer = 302
    make_attribute(customer, "vlan_id", "1")

    dispatch_once()

    assert len(receiver.received) == 1  # one request, the redirect not followed
    assert Delivery.objects.get().status == Delivery.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_an_outcome_recorded_after_the_endpoint_was_deleted_is_dropped(manager, receiver, private_networks):
    """A worker sends while someone deletes the endpoint: its record of the try must neither fail nor resurrect it
    (before, the attempt referenced a delivery the delete had removed, and the second commit failed)."""
    from webhooks.services import _record, webhook_delete

    created = manager.post("/crm/webhook/", {"url": receiver.url, "event_types": ["*"]}, format="json").json()
    make_attribute(make_customer(), "billing_method", "monthly")
    dispatch_once()  # number the event, fan it out and send it
    webhook = Webhook.objects.get(pk=created["webhook_id"])
    delivery = Delivery.objects.filter(webhook=webhook).first()
    answer = transport.Answer(status_code=204, duration_ms=1)

    webhook_delete(actor=None, webhook=webhook)
    still_enabled = _record(webhook, delivery, answer, timezone.now())

    assert still_enabled is False
    assert not Webhook.objects.filter(pk=created["webhook_id"]).exists()
    assert not Delivery.objects.filter(pk=delivery.pk).exists()
