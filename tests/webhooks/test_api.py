"""`/crm/webhook/…`: create (secret once), list, change, delete, rotate, deliveries, retry, replay; permissions."""

import pytest

from jobs import runner
from tests.factories import bearer_client, make_attribute, make_user
from webhooks.models import Delivery, Webhook
from webhooks.services import dispatch_once

pytestmark = pytest.mark.django_db


def test_create_answers_201_with_the_id_and_the_secret_once(manager, receiver, private_networks):
    response = manager.post(
        "/crm/webhook/",
        {"url": receiver.url, "description": "billing", "event_types": ["attribute.updated"],
         "attribute_names": ["billing_*"]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert (body["url"], body["event_types"], body["attribute_names"], body["enabled"], body["health"]) == (
        receiver.url, ["attribute.updated"], ["billing_*"], True, "healthy",
    )  # fmt: skip
    listed = manager.get("/crm/webhook/").json()
    one = manager.get(f"/crm/webhook/{body['webhook_id']}").json()
    assert [w["webhook_id"] for w in listed] == [body["webhook_id"]]
    assert "secret" not in listed[0] and "secret" not in one
    assert body["secret"] not in manager.get("/crm/webhook/").content.decode()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "http://example.com/hook", "event_types": ["*"]}, "url"),  # https only without the setting
        ({"url": "https://127.0.0.1/hook", "event_types": ["*"]}, "url"),
        ({"url": "https://10.0.0.5/hook", "event_types": ["*"]}, "url"),
        ({"url": "https://169.254.169.254/latest", "event_types": ["*"]}, "url"),
        ({"url": "https://[::1]/hook", "event_types": ["*"]}, "url"),
        ({"url": "https://example.com/hook", "event_types": ["attribute.moved"]}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": []}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": ["*"], "attribute_names": [""]}, "attribute_names"),
        ({"url": "https://example.com/hook", "event_types": ["*"], "secret": "mine"}, "secret"),
        ({"event_types": ["*"]}, "url"),
    ],
)
def test_create_refuses_bad_input_with_400_and_creates_nothing(manager, payload, field):
    response = manager.post("/crm/webhook/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""), ("post", ""), ("get", "{id}"), ("patch", "{id}"), ("delete", "{id}"),
        ("post", "{id}/rotate-secret"), ("post", "{id}/test"), ("get", "{id}/deliveries"),
        ("post", "{id}/deliveries/1/retry"), ("post", "{id}/replay"),
    ],
)  # fmt: skip
def test_every_route_needs_manage_webhooks(method, path, hook):
    others = bearer_client(make_user("view_customer_attribute", "create_customer_attribute"))
    url = "/crm/webhook/" + path.format(id=hook["webhook_id"])

    response = getattr(others, method)(url, {}, format="json")

    assert response.status_code == 403
    assert "manage_webhooks" in response.json()["detail"]
    assert Webhook.objects.get().url == hook["url"]


def test_anonymous_gets_401(anon):
    assert anon.get("/crm/webhook/").status_code == 401


def test_patch_changes_settings_and_validates(manager, hook):
    url = f"/crm/webhook/{hook['webhook_id']}"

    changed = manager.patch(url, {"enabled": False, "attribute_names": ["vlan_*"]}, format="json")
    refused = manager.patch(url, {"url": "ftp://example.com"}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["attribute_names"]) == (False, ["vlan_*"])
    assert refused.status_code == 400 and "url" in refused.json()
    assert Webhook.objects.get().url == hook["url"]


def test_delete_removes_the_webhook(manager, hook):
    assert manager.delete(f"/crm/webhook/{hook['webhook_id']}").status_code == 200
    assert manager.get(f"/crm/webhook/{hook['webhook_id']}").status_code == 404
    assert not Webhook.objects.exists()


def test_unknown_or_malformed_ids_are_404(manager, hook):
    assert manager.get("/crm/webhook/00000000-0000-0000-0000-000000000000").status_code == 404
    assert manager.get("/crm/webhook/not-a-uuid").status_code == 404
    assert manager.post(f"/crm/webhook/{hook['webhook_id']}/deliveries/99/retry").status_code == 404


def test_test_sends_a_signed_message_now_and_logs_it(manager, hook, receiver):
    response = manager.post(f"/crm/webhook/{hook['webhook_id']}/test")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["event_type"], body["attempt_log"][0]["status_code"]) == (
        "succeeded", "webhook.test", 204,
    )  # fmt: skip
    [message] = receiver.accepted()
    assert message.body["type"] == "webhook.test" and message.message_id == body["message_id"]


def test_deliveries_list_every_attempt_and_retry_sends_again(manager, hook, receiver, customer):
    receiver.answer = 500
    make_attribute(customer, "vlan_id", "100")
    for _ in range(4):  # the first try and the three retries of the test schedule
        dispatch_once()
    [delivery] = manager.get(f"/crm/webhook/{hook['webhook_id']}/deliveries").json()
    assert (delivery["status"], delivery["attempts"]) == ("failed", 4)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500] * 4
    assert all(a["duration_ms"] >= 0 and a["error"] == "HTTP 500" for a in delivery["attempt_log"])

    receiver.answer = 200
    retried = manager.post(f"/crm/webhook/{hook['webhook_id']}/deliveries/{delivery['delivery_id']}/retry")
    dispatch_once()

    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED
    assert [m.body["data"]["data"]["attribute_value"] for m in receiver.accepted()] == ["100"]


def test_replay_sends_kept_events_again_after_a_sequence(manager, hook, receiver, customer):
    for value in ("1", "2", "3"):
        make_attribute(customer, "vlan_id", value)
    dispatch_once()
    assert len(receiver.accepted()) == 3

    response = manager.post(f"/crm/webhook/{hook['webhook_id']}/replay", {"after": 1}, format="json")
    runner.run_queued()
    dispatch_once()

    assert response.status_code == 202
    values = [m.body["data"]["data"]["attribute_value"] for m in receiver.accepted()]
    assert values == ["1", "2", "3", "2", "3"]
    bad = manager.post(f"/crm/webhook/{hook['webhook_id']}/replay", {"after": -1}, format="json")
    assert bad.status_code == 400
