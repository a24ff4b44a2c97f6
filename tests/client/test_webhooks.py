"""Webhooks through the client, and `verify_webhook` on real signed deliveries of this server."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from crm_attributes_client import NotFound, PermissionDenied, ValidationError, WebhookVerificationError, verify_webhook
from standardwebhooks.webhooks import Webhook as StandardWebhook

from events.services import events_sequence
from tests.factories import make_customer
from webhooks.models import Webhook
from webhooks.services import dispatch_once

from .conftest import ALL_ATTRIBUTE_PERMS


@pytest.fixture
def hooks(crm):
    return crm("manage_webhooks")


def test_create_list_update_and_delete_a_webhook(hooks, receiver):
    created = hooks.create_webhook(receiver.url, ["attribute.updated"], attribute_names=["billing_*"], description="b")

    assert created.secret and created.secret.startswith("whsec_")
    assert [w.webhook_id for w in hooks.webhooks()] == [created.webhook_id]
    fetched = hooks.webhook(created.webhook_id)
    assert (fetched.event_types, fetched.attribute_names, fetched.health, fetched.secret) == (
        ["attribute.updated"],
        ["billing_*"],
        "healthy",
        None,  # the secret is shown once only
    )
    changed = hooks.update_webhook(created.webhook_id, enabled=False, description="off")
    assert (changed.enabled, changed.description) == (False, "off")

    hooks.delete_webhook(created.webhook_id)
    with pytest.raises(NotFound):
        hooks.webhook(created.webhook_id)
    assert not Webhook.objects.exists()


def test_a_refused_url_is_a_validation_error(hooks, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ValidationError) as raised:
        hooks.create_webhook("http://127.0.0.1:9/hook")
    assert raised.value.field == "url"


def test_managing_webhooks_needs_the_permission(crm, receiver):
    with pytest.raises(PermissionDenied) as raised:
        crm(*ALL_ATTRIBUTE_PERMS).create_webhook(receiver.url)
    assert "manage_webhooks" in str(raised.value)


def test_verify_webhook_accepts_the_servers_test_message_and_refuses_forgeries(hooks, receiver):
    webhook = hooks.create_webhook(receiver.url)

    delivery = hooks.test_webhook(webhook.webhook_id)

    assert delivery.status == "succeeded" and delivery.attempt_log[0].status_code == 204
    body, headers = receiver.requests[-1]
    message = verify_webhook(body, headers, webhook.secret)
    assert message.type == "webhook.test" and message.message_id == delivery.message_id
    assert message.data["webhook_id"] == webhook.webhook_id
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body.replace(b"test", b"tost"), headers, webhook.secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, headers, "whsec_" + "QUJD" * 8)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, headers, webhook.secret, now=time.time() + 600)  # a replay ten minutes later


def test_an_attribute_event_delivery_verifies_and_parses_as_an_event(hooks, writer, receiver):
    webhook = hooks.create_webhook(receiver.url, ["attribute.created"])
    customer = make_customer()
    writer.upsert(customer.pk, "billing_cycle", "quarterly")
    events_sequence()
    dispatch_once()  # what the delivery job does on a worker

    body, headers = receiver.requests[-1]
    event = verify_webhook(body, headers, webhook.secret).event
    assert (event.type, event.customer_id, event.data.attribute_value) == (
        "attribute.created",
        customer.pk,
        "quarterly",
    )
    assert [d.event_type for d in hooks.deliveries(webhook.webhook_id)] == ["attribute.created"]


def test_verify_webhook_agrees_with_the_standard_webhooks_library():
    secret = "whsec_" + base64.b64encode(b"a secret key for the tests only").decode()
    body = json.dumps({"type": "attribute.updated", "timestamp": "now", "data": {"sequence": 1}})
    now = int(time.time())
    signature = StandardWebhook(secret).sign("msg_1", datetime.fromtimestamp(now, UTC), body)
    headers = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(now),
        "Webhook-Signature": f"v1,{'A' * 43}= {signature}",
    }  # a stale one, then the right one

    assert verify_webhook(body, headers, secret).data == {"sequence": 1}
    assert StandardWebhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})


def test_a_rotated_secret_signs_the_next_delivery(hooks, receiver):
    webhook = hooks.create_webhook(receiver.url)
    new_secret = hooks.rotate_webhook_secret(webhook.webhook_id)

    hooks.test_webhook(webhook.webhook_id)

    body, headers = receiver.requests[-1]
    assert new_secret != webhook.secret
    assert verify_webhook(body, headers, new_secret).type == "webhook.test"
    assert verify_webhook(body, headers, webhook.secret).type == "webhook.test"  # the old one too, for 24 h


def test_retry_a_delivery_and_replay_events(hooks, writer, receiver):
    webhook = hooks.create_webhook(receiver.url)
    writer.upsert(make_customer().pk, "vlan_id", "100")
    events_sequence()
    dispatch_once()
    delivery = next(hooks.deliveries(webhook.webhook_id))

    again = hooks.retry_delivery(webhook.webhook_id, delivery.delivery_id)
    job = hooks.replay_webhook(webhook.webhook_id, after=0)

    assert again.delivery_id == delivery.delivery_id and again.status == "pending"
    assert job.kind == "webhooks.replay" and job.status == "queued"
