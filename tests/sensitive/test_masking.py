"""Masking: without view_sensitive_customer_attribute a sensitive value is found nowhere; with it, it is shown and
each read is in the reveal log."""

import pytest
from django.test import Client

from attributes import services
from attributes.models import Attribute, AttributeDefinition, SensitiveReveal
from events.services import events_sequence
from tests.factories import bearer_client, make_customer, make_user
from tests.security.conftest import ALL_CODENAMES
from tests.security.urlmap import ROUTES, make_objects, url_for
from webhooks.services import dispatch_once

from .conftest import SECRET, SEE, VIEW, WRITE

pytestmark = pytest.mark.django_db

EVERYTHING_BUT_SENSITIVE = (*ALL_CODENAMES, "view_all_jobs")
GET_ROUTES = [route for route in ROUTES if route.name != "admin:*"]


@pytest.fixture
def secret_world(world, api_key):
    """The security tests' world (every kind of object), plus a sensitive value on its customer, a change of it, its
    events numbered, usage figures refreshed, and a token of the visitor's own."""
    customer = world.customer
    services.attribute_upsert(customer=customer, name="api_key", value="sk_first_value_to_replace", actor=None)
    services.attribute_upsert(customer=customer, name="api_key", value=SECRET, actor=None)
    services.usage_refresh()
    events_sequence()
    return world


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_every_get_page_and_endpoint_hides_the_value_from_a_user_without_the_permission(secret_world):
    """Generated from the URL configuration: every routed GET (pages, API, admin), as a staff user holding every
    other permission; neither the value nor the replaced one appears in any answer."""
    user = make_user(*EVERYTHING_BUT_SENSITIVE, username="no-secrets", is_staff=True)
    objects = make_objects(secret_world)
    page, api = Client(), bearer_client(user)
    page.force_login(user)
    attribute = Attribute.objects.get(attribute_name="api_key")
    admin_pages = [
        "/admin/attributes/attribute/",
        f"/admin/attributes/attribute/{attribute.pk}/change/",
        f"/admin/customers/customer/{attribute.customer_id}/change/",
        "/admin/attributes/attribute/?q=api_key%3Dsk",
    ]
    visited = 0
    for route in GET_ROUTES:
        path = url_for(route, objects, user)  # the world's customer is the one with the secret
        client = api if route.is_api else page
        response = client.get(path)
        assert response.status_code < 500, path
        body = _body(response)
        assert SECRET not in body, path
        assert "sk_first_value_to_replace" not in body, path
        visited += 1
    for path in admin_pages:
        response = page.get(path)
        assert response.status_code == 200, path
        assert SECRET not in _body(response) and "sk_first_value_to_replace" not in _body(response), path
    # The reads that would reveal it, as this user: masked, and nothing is logged as read.
    body = api.get(f"/crm/attribute/attribute_id/{attribute.pk}").json()
    assert (body["attribute_value"], body["sensitive"]) == (None, True)
    assert visited > 40
    assert not SensitiveReveal.objects.exists()


def test_find_and_list_endpoints_answer_null_and_sensitive_true(secret, customer, api):
    client = api(VIEW)

    [found] = client.get("/crm/attribute/", {"attribute_name": "api_key", "attribute_value": SECRET}).json()
    listed = client.get(f"/crm/attribute/customer_id/{customer.pk}").json()
    one = client.get(f"/crm/attribute/attribute_id/{secret.pk}")

    assert found["attribute_id"] == secret.pk
    assert (found["attribute_value"], found["sensitive"]) == (None, True)
    assert [(i["attribute_value"], i["sensitive"]) for i in listed] == [(None, True)]
    assert (one.json()["attribute_value"], one.json()["sensitive"]) == (None, True)
    assert SECRET not in one["ETag"]


def test_find_by_other_operators_on_a_sensitive_name_is_400_naming_the_reason(secret, api):
    client = api(VIEW, "view_customer")

    for param in ("attribute_value__startswith", "attribute_value__icontains", "attribute_value__in"):
        response = client.get("/crm/attribute/", {"attribute_name": "api_key", param: "sk_"})
        assert response.status_code == 400, param
        assert "sensitive" in response.json()[param][0] and "equality" in response.json()[param][0]
    missed = client.get("/crm/attribute/", {"attribute_name": "api_key", "attribute_value": "sk_other"}).json()
    assert missed == []
    customers = client.get("/crm/customer/", {"attribute": f"api_key:{SECRET}"}).json()
    assert [c["customer_id"] for c in customers] == [secret.customer_id]


def test_a_user_with_the_permission_sees_the_value_and_each_read_is_logged(secret, customer, api):
    reader = make_user(VIEW, SEE, "view_customer", username="auditor")
    client = bearer_client(reader, name="vault-sync")

    one = client.get(f"/crm/attribute/attribute_id/{secret.pk}").json()
    listed = client.get(f"/crm/attribute/customer_id/{customer.pk}").json()
    found = client.get("/crm/attribute/", {"attribute_name": "api_key", "attribute_value": SECRET}).json()
    exported = b"".join(client.get("/crm/attribute/export/", {"customer_id": customer.pk}).streaming_content)

    assert one["attribute_value"] == SECRET and one["sensitive"] is True
    assert listed[0]["attribute_value"] == SECRET
    assert found[0]["attribute_value"] == SECRET
    assert SECRET.encode() in exported
    reads = list(SensitiveReveal.objects.order_by("id").values_list("username", "token_name", "customer_id",
                                                                     "attribute_name", "channel"))  # fmt: skip
    assert reads == [("auditor", "vault-sync", customer.pk, "api_key", "api")] * 3 + [
        ("auditor", "vault-sync", customer.pk, "api_key", "export")
    ]
    log = api("manage_attribute_registry").get("/crm/attribute/reveal-log/", {"channel": "x"})
    assert log.status_code == 400
    log = api("manage_attribute_registry").get("/crm/attribute/reveal-log/", {"customer_id": customer.pk}).json()
    assert len(log) == 4 and log[0]["channel"] == "export" and log[0]["username"] == "auditor"
    assert api(VIEW, SEE).get("/crm/attribute/reveal-log/").status_code == 403


def test_write_response_masks_unless_the_writer_may_view(api_key, customer, api):
    body = {"customer_id": customer.pk, "attribute_name": "api_key", "attribute_value": SECRET}

    blind = api(*WRITE).put("/crm/attribute/", body, format="json")
    seeing = api(*WRITE, SEE).put("/crm/attribute/", body, format="json")
    bulk = api(*WRITE).put("/crm/attribute/bulk", [body], format="json")

    assert blind.status_code == 201 and blind.json()["attribute_value"] is None
    assert seeing.status_code == 200 and seeing.json()["attribute_value"] == SECRET
    assert bulk.status_code == 200 and bulk.json()[0]["attribute_value"] is None and bulk.json()[0]["sensitive"]
    assert not SensitiveReveal.objects.exists()  # a write's answer echoes what was sent: no read


def test_tab_shows_dots_and_reveal_returns_the_value_logged(secret, customer, client):
    viewer = make_user(VIEW, "view_customer", SEE)
    client.force_login(viewer)

    tab = client.get(f"/customers/{customer.pk}/attributes/").content.decode()
    revealed = client.post(f"/customers/{customer.pk}/attributes/{secret.pk}/reveal/", HTTP_HX_REQUEST="true")

    assert SECRET not in tab and "••••••••" in tab and "Reveal api_key" in tab
    assert revealed.status_code == 200 and SECRET in revealed.content.decode()
    assert 'data-rehide="20"' in revealed.content.decode()
    assert SensitiveReveal.objects.get().channel == "ui"


def test_reveal_needs_the_permission(secret, customer, client):
    client.force_login(make_user(VIEW, "view_customer"))

    tab = client.get(f"/customers/{customer.pk}/attributes/").content.decode()
    response = client.post(f"/customers/{customer.pk}/attributes/{secret.pk}/reveal/")

    assert "Reveal api_key" not in tab
    assert response.status_code == 403 and SECRET not in response.content.decode()
    assert not SensitiveReveal.objects.exists()


def test_edit_form_never_contains_the_value_and_a_rename_keeps_it(secret, customer, client, api):
    client.force_login(make_user(VIEW, "view_customer", "update_customer_attribute", SEE))

    form = client.get(f"/customers/{customer.pk}/attributes/{secret.pk}/edit/").content.decode()
    assert SECRET not in form and sensitive_token(secret) not in form

    AttributeDefinition.objects.create(name="api_secret", sensitive=True)
    renamed = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{secret.pk}", {"attribute_name": "api_secret"}, format="json"
    )
    assert renamed.status_code == 200
    from attributes import sensitive

    assert sensitive.plain_value(Attribute.objects.get(pk=secret.pk)) == SECRET  # re-encrypted for the new name


def sensitive_token(attribute) -> str:
    return Attribute.objects.get(pk=attribute.pk).attribute_value


def test_webhook_payload_masks_the_value_for_every_subscriber(hook, receiver, api_key):
    customer = make_customer()
    services.attribute_upsert(customer=customer, name="api_key", value=SECRET, actor=None)

    dispatch_once()

    [message] = receiver.accepted()
    data = message.body["data"]["data"]
    assert (data["attribute_value"], data["sensitive"]) == (None, True)
    assert SECRET not in str(message.body)


def test_history_restore_of_a_sensitive_value_is_refused(secret, api):
    record = Attribute.history.filter(attribute_id=secret.pk).first()

    with pytest.raises(services.common.ValidationError, match="not kept in history"):
        services.attribute_restore(history_id=record.history_id, actor=None)


def test_csv_export_leaves_the_cell_empty_without_the_permission(secret, customer, api):
    exported = b"".join(
        api(VIEW, "view_customer").get("/crm/attribute/export/", {"customer_id": customer.pk}).streaming_content
    ).decode()

    assert SECRET not in exported and "hmac-sha256" not in exported
    assert '"api_key",""' in exported
