"""Attributes through the client: typed results, the server's errors as exceptions, lost-update protection."""

import crm_attributes_client
import pytest
from crm_attributes_client import (
    AuthenticationError,
    Client,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ValidationError,
)

from attributes.models import Attribute
from tests.factories import attribute_rows, make_attribute, make_customer


def test_upsert_creates_then_updates_keeping_the_attribute_id(writer):
    customer = make_customer()

    created = writer.upsert(customer.pk, "external_crm_id", "SF-12345")
    updated = writer.upsert(customer.pk, "external_crm_id", "SF-54321")

    assert created.attribute_id == updated.attribute_id
    assert (updated.customer_id, updated.attribute_name, updated.attribute_value) == (
        customer.pk,
        "external_crm_id",
        "SF-54321",
    )
    assert created.etag and updated.etag and created.etag != updated.etag
    assert Attribute.objects.get(pk=created.attribute_id).attribute_value == "SF-54321"


def test_get_list_values_update_and_delete(writer):
    customer = make_customer()
    first = writer.upsert(customer.pk, "support_tier", "premium")
    writer.upsert(customer.pk, "billing_method", "quarterly")

    assert writer.get(first.attribute_id).attribute_value == "premium"
    assert [a.attribute_name for a in writer.attributes(customer.pk)] == ["billing_method", "support_tier"]
    assert writer.values(customer.pk) == {"billing_method": "quarterly", "support_tier": "premium"}

    renamed = writer.update(first.attribute_id, name="support_level", value="gold")
    assert (renamed.attribute_id, renamed.attribute_name, renamed.attribute_value) == (
        first.attribute_id,
        "support_level",
        "gold",
    )

    writer.delete(first.attribute_id)
    with pytest.raises(NotFound):
        writer.get(first.attribute_id)
    assert writer.values(customer.pk) == {"billing_method": "quarterly"}


def test_an_unknown_customer_is_not_found(writer):
    with pytest.raises(NotFound) as raised:
        writer.attributes(10**9)
    assert raised.value.status == 404
    assert "No such customer" in str(raised.value)


def test_a_value_over_150_characters_raises_validation_error_with_field_and_message(writer):
    customer = make_customer()
    before = attribute_rows()

    with pytest.raises(ValidationError) as raised:
        writer.upsert(customer.pk, "notes", "x" * 151)

    assert raised.value.field == "attribute_value"
    assert "150 characters" in raised.value.errors["attribute_value"][0]
    assert "attribute_value" in str(raised.value)
    assert attribute_rows() == before


def test_an_unknown_customer_id_in_a_write_is_a_validation_error(writer):
    with pytest.raises(ValidationError) as raised:
        writer.upsert(10**9, "support_tier", "premium")
    assert raised.value.field == "customer_id"


def test_permission_denied_names_the_missing_permission(crm):
    reader = crm("view_customer_attribute")
    customer = make_customer()

    with pytest.raises(PermissionDenied) as raised:
        reader.upsert(customer.pk, "support_tier", "premium")

    assert "create_customer_attribute" in str(raised.value)
    assert not Attribute.objects.exists()


def test_reading_needs_the_view_permission(crm):
    attribute = make_attribute(make_customer())
    with pytest.raises(PermissionDenied) as raised:
        crm("create_customer_attribute").get(attribute.pk)
    assert "view_customer_attribute" in str(raised.value)


def test_a_wrong_token_is_an_authentication_error(live_server):
    with Client(live_server.url, "crm_not-a-token") as client, pytest.raises(AuthenticationError) as raised:
        client.attributes(1)
    assert raised.value.status == 401


def test_update_with_a_stale_etag_raises_precondition_failed_with_the_current_etag(writer):
    customer = make_customer()
    mine = writer.upsert(customer.pk, "billing_cycle", "monthly")
    theirs = writer.update(mine.attribute_id, value="annual")

    with pytest.raises(PreconditionFailed) as raised:
        writer.update(mine.attribute_id, value="quarterly", if_match=mine.etag)

    assert raised.value.etag == theirs.etag
    assert raised.value.current is not None and raised.value.current.attribute_value == "annual"
    assert Attribute.objects.get(pk=mine.attribute_id).attribute_value == "annual"
    # With the current version the same update goes through.
    done = writer.update(mine.attribute_id, value="quarterly", if_match=raised.value.etag)
    assert done.attribute_value == "quarterly"


def test_upsert_and_delete_honour_if_match(writer):
    customer = make_customer()
    first = writer.upsert(customer.pk, "vlan_id", "100")
    second = writer.upsert(customer.pk, "vlan_id", "200", if_match=first.etag)

    with pytest.raises(PreconditionFailed):
        writer.upsert(customer.pk, "vlan_id", "300", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        writer.delete(first.attribute_id, if_match=first.etag)

    writer.delete(first.attribute_id, if_match=second.etag)
    assert not Attribute.objects.exists()


def test_create_only_refuses_to_overwrite(writer):
    customer = make_customer()
    writer.upsert(customer.pk, "external_crm_id", "SF-1", create_only=True)

    with pytest.raises(PreconditionFailed) as raised:
        writer.upsert(customer.pk, "external_crm_id", "SF-2", create_only=True)

    assert raised.value.current is not None and raised.value.current.attribute_value == "SF-1"
    assert Attribute.objects.get().attribute_value == "SF-1"


def test_url_and_token_default_to_the_environment(live_server, writer, monkeypatch):
    monkeypatch.setenv("CRM_URL", live_server.url + "/crm/")
    monkeypatch.setenv("CRM_TOKEN", writer.raw_token)
    customer = make_customer()

    with Client() as client:
        client.upsert(customer.pk, "ipv6_enabled", "true")

    assert Attribute.objects.get().attribute_value == "true"


def test_without_url_or_token_the_client_says_what_to_set(monkeypatch):
    monkeypatch.delenv("CRM_URL", raising=False)
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    with pytest.raises(ValueError, match="CRM_URL"):
        Client()
    with pytest.raises(ValueError, match="CRM_TOKEN"):
        Client("http://127.0.0.1:1")


def test_every_request_names_the_client_and_its_version(crm, proxy):
    client = crm("view_customer_attribute", url=proxy.url)
    customer = make_customer()

    client.attributes(customer.pk)

    agent = proxy.seen[0].headers["user-agent"]
    assert agent.startswith(f"crm-attributes-client/{crm_attributes_client.__version__} ")
    assert proxy.seen[0].headers["authorization"] == f"Bearer {client.raw_token}"


def test_a_hung_server_raises_after_the_timeout(crm, proxy):
    from crm_attributes_client import TransportError

    client = crm("view_customer_attribute", url=proxy.url, timeout=0.3, retries=0)
    proxy.stall()

    with pytest.raises(TransportError) as raised:
        client.attributes(make_customer().pk)

    assert "ReadTimeout" in str(raised.value)


def test_a_write_of_a_name_a_rename_job_holds_raises_conflict_with_retry_after(writer):
    from crm_attributes_client import Conflict

    from attributes.models import NameReservation
    from jobs.models import Job

    customer = make_customer()
    job = Job.objects.create(kind="attributes.rename", params={}, status=Job.Status.RUNNING)
    NameReservation.objects.create(name="plan", job=job)  # what a running rename job holds

    with pytest.raises(Conflict) as raised:
        writer.upsert(customer.pk, "plan", "gold")

    assert raised.value.status == 409 and raised.value.retry_after == 5
    assert "being renamed" in str(raised.value)
    assert not Attribute.objects.exists()
