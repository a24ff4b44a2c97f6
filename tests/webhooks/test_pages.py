"""The Webhooks page and Django admin: the same services, the same permission, the secret shown once."""

import re

import pytest

from tests.factories import make_attribute, make_user
from webhooks.models import Delivery, Webhook
from webhooks.services import dispatch_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    client.force_login(make_user("manage_webhooks", username="page-admin"))
    return client


def test_pages_need_manage_webhooks(client, hook):
    client.force_login(make_user("view_customer_attribute"))
    pk = hook["webhook_id"]

    assert client.get("/webhooks/").status_code == 403
    assert client.get(f"/webhooks/{pk}/").status_code == 403
    assert client.post(f"/webhooks/{pk}/delete/").status_code == 403
    assert client.post("/webhooks/", {"url": "https://example.com/h", "event_types": ["*"]}).status_code == 403
    assert Webhook.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    assert client.get("/webhooks/").status_code == 302


def test_nav_shows_webhooks_only_to_managers(client, signed_in):
    assert 'href="/webhooks/"' in signed_in.get("/jobs/").content.decode()
    client.force_login(make_user())
    assert 'href="/webhooks/"' not in client.get("/jobs/").content.decode()


def test_create_on_the_page_shows_the_secret_once(signed_in, receiver, private_networks):
    response = signed_in.post(
        "/webhooks/",
        {"url": receiver.url, "description": "Billing", "event_types": ["attribute.updated"],
         "attribute_names": "billing_*, plan"},
    )  # fmt: skip

    html = response.content.decode()
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', html).group(1)
    webhook = Webhook.objects.get()
    assert (webhook.description, webhook.event_types, webhook.attribute_names) == (
        "Billing", ["attribute.updated"], ["billing_*", "plan"],
    )  # fmt: skip
    assert webhook.secret == secret
    assert secret not in signed_in.get("/webhooks/").content.decode()
    assert secret not in signed_in.get(f"/webhooks/{webhook.pk}/").content.decode()


def test_an_unsafe_url_is_refused_on_the_page(signed_in):
    response = signed_in.post("/webhooks/", {"url": "https://127.0.0.1/x", "event_types": ["*"]})

    assert response.status_code == 400
    assert "private, loopback" in response.content.decode()
    assert not Webhook.objects.exists()


def test_detail_lists_deliveries_with_attempts_and_health(signed_in, hook, receiver, customer, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [3600]
    receiver.answer = 500
    make_attribute(customer, "vlan_id", "1")
    dispatch_once()

    html = signed_in.get(f"/webhooks/{hook['webhook_id']}/").content.decode()

    assert "attribute.created" in html and "HTTP 500" in html and "failing since" in html
    assert "Retry delivery" in html


def test_retry_test_disable_and_delete_from_the_page(signed_in, hook, receiver, customer, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [3600]
    receiver.answer = 500
    make_attribute(customer, "vlan_id", "1")
    dispatch_once()
    pk, delivery = hook["webhook_id"], Delivery.objects.get()
    receiver.answer = 204

    signed_in.post(f"/webhooks/{pk}/deliveries/{delivery.pk}/retry/")
    dispatch_once()
    tested = signed_in.post(f"/webhooks/{pk}/test/", follow=True)
    signed_in.post(f"/webhooks/{pk}/disable/")
    disabled = Webhook.objects.get().enabled
    rotated = signed_in.post(f"/webhooks/{pk}/rotate/").content.decode()
    signed_in.post(f"/webhooks/{pk}/delete/")

    assert Delivery.objects.filter(webhook_id=pk).count() == 0  # deleted with the webhook
    assert "Test message sent: 204" in tested.content.decode()
    assert disabled is False
    assert 'id="new-secret">whsec_' in rotated
    assert [m.body["type"] for m in receiver.accepted()] == ["attribute.created", "webhook.test"]
    assert not Webhook.objects.exists()


def test_admin_creates_through_the_service_and_needs_the_permission(admin_client_, client, private_networks):
    response = admin_client_.post(
        "/admin/webhooks/webhook/add/",
        {"url": "https://example.com/hook", "description": "x", "event_types": '["*"]', "attribute_names": "[]",
         "enabled": "on"},
        follow=True,
    )  # fmt: skip

    webhook = Webhook.objects.get()
    assert webhook.secret in response.content.decode()  # the once-only message
    assert webhook.cursor >= 0 and webhook.secret.startswith("whsec_")
    client.force_login(make_user(is_staff=True))
    assert client.get("/admin/webhooks/webhook/").status_code == 403
