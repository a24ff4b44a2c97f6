"""Every write path records exactly one event per changed attribute, in the write's transaction."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from attributes import services
from attributes.models import Attribute
from events.models import Event
from jobs import runner
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import feed_events, summary

pytestmark = pytest.mark.django_db
ALL = ("view_customer_attribute", "create_customer_attribute", "update_customer_attribute", "delete_customer_attribute")


@pytest.fixture
def editor(client):
    user = make_user("view_customer", *ALL, username="editor")
    client.force_login(user)
    return user


@pytest.fixture
def api():
    return bearer_client(make_user(*ALL, username="integration"), "billing-sync")


def new_events(before: int) -> list[Event]:
    return feed_events()[before:]


def test_every_history_row_has_exactly_one_event_with_its_facts(customer):
    attribute = make_attribute(customer, "external_crm_id", "SF-1")
    services.attribute_update(attribute=attribute, name="salesforce_id", value="SF-2", actor=None)
    services.attribute_delete(attribute=Attribute.objects.get(pk=attribute.pk), actor=None)

    events = feed_events()
    history = list(Attribute.history.order_by("history_id"))

    assert [summary(e) for e in events] == [
        ("attribute.created", "external_crm_id", "SF-1", "", ""),
        ("attribute.renamed", "salesforce_id", "SF-2", "external_crm_id", "SF-1"),
        ("attribute.deleted", "salesforce_id", "SF-2", "", ""),
    ]
    assert [e.occurred_at for e in events] == [h.history_date for h in history]
    assert {e.attribute_id for e in events} == {attribute.pk} and {e.customer_id for e in events} == {customer.pk}
    assert [e.sequence for e in events] == sorted({e.sequence for e in events})
    assert all(e.batch_id is None for e in events)  # single writes belong to no batch


def test_a_rolled_back_write_records_no_event(customer):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_attribute(customer, "vlan_id", "100")
        raise RuntimeError("the request failed after the write")

    assert feed_events() == []
    assert not Attribute.objects.exists()


def test_ui_add_edit_and_delete_record_their_events_by_the_user(client, editor, customer):
    tab = f"/customers/{customer.pk}/attributes/"
    client.post(f"{tab}add/", {"attribute_name": "billing_plan", "attribute_value": "annual"})
    attribute = Attribute.objects.get(customer=customer)
    client.post(f"{tab}{attribute.pk}/edit/", {"attribute_name": "billing_plan", "attribute_value": "monthly"})
    attribute.refresh_from_db()
    client.post(f"{tab}{attribute.pk}/delete/", {"version": attribute.etag})

    events = feed_events()
    assert [summary(e) for e in events] == [
        ("attribute.created", "billing_plan", "annual", "", ""),
        ("attribute.updated", "billing_plan", "monthly", "", "annual"),
        ("attribute.deleted", "billing_plan", "monthly", "", ""),
    ]
    assert {(e.actor_username, e.channel, e.token_name) for e in events} == {("editor", "ui", "")}


def test_ui_edit_that_changes_nothing_records_no_event(client, editor, attribute):
    before = len(feed_events())

    client.post(
        f"/customers/{attribute.customer_id}/attributes/{attribute.pk}/edit/",
        {"attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
    )

    assert new_events(before) == []


def test_api_put_patch_and_delete_record_events_with_the_token_name(api, customer):
    response = api.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "vlan_id", "attribute_value": "100"},
        format="json",
    )
    attribute_id = response.json()["attribute_id"]
    api.patch(f"/crm/attribute/attribute_id/{attribute_id}", {"attribute_name": "vlan"}, format="json")
    api.delete(f"/crm/attribute/attribute_id/{attribute_id}")

    events = feed_events()
    assert [summary(e) for e in events] == [
        ("attribute.created", "vlan_id", "100", "", ""),
        ("attribute.renamed", "vlan", "100", "vlan_id", ""),
        ("attribute.deleted", "vlan", "100", "", ""),
    ]
    assert {(e.actor_username, e.channel, e.token_name) for e in events} == {("integration", "api", "billing-sync")}


def test_refused_api_write_records_no_event(customer):
    viewer = bearer_client(make_user("view_customer_attribute"))

    response = viewer.put(
        "/crm/attribute/", {"customer_id": customer.pk, "attribute_name": "x", "attribute_value": "1"}, format="json"
    )

    assert response.status_code == 403
    assert feed_events() == []


def test_bulk_records_one_event_per_changed_item_all_in_one_batch(api):
    first, second = make_customer(), make_customer()
    make_attribute(second, "plan", "a")
    before = len(feed_events())

    response = api.put(
        "/crm/attribute/bulk/",
        [
            {"customer_id": first.pk, "attribute_name": "plan", "attribute_value": "a"},
            {"customer_id": second.pk, "attribute_name": "plan", "attribute_value": "b"},
            {"customer_id": first.pk, "attribute_name": "tier", "attribute_value": "gold"},
        ],
        format="json",
    )
    unchanged = api.put(
        "/crm/attribute/bulk/",
        [{"customer_id": first.pk, "attribute_name": "plan", "attribute_value": "a"}],
        format="json",
    )

    assert response.status_code == unchanged.status_code == 200
    events = new_events(before)
    assert sorted(summary(e) for e in events) == [
        ("attribute.created", "plan", "a", "", ""),
        ("attribute.created", "tier", "gold", "", ""),
        ("attribute.updated", "plan", "b", "", "a"),
    ]
    assert len({e.batch_id for e in events}) == 1 and events[0].batch_id is not None
    assert {e.token_name for e in events} == {"billing-sync"}


def test_bulk_with_an_invalid_item_records_no_event(api, customer):
    response = api.put(
        "/crm/attribute/bulk/",
        [
            {"customer_id": customer.pk, "attribute_name": "plan", "attribute_value": "a"},
            {"customer_id": customer.pk, "attribute_name": "Bad Name", "attribute_value": "x"},
        ],
        format="json",
    )

    assert response.status_code == 400
    assert feed_events() == []


def test_admin_add_change_and_delete_record_events(admin_client_, customer):
    admin_client_.post(
        "/admin/attributes/attribute/add/",
        {"customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": "1"},
    )
    attribute = Attribute.objects.get(customer=customer)
    admin_client_.post(
        f"/admin/attributes/attribute/{attribute.pk}/change/",
        {"customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": "2"},
    )
    admin_client_.post(f"/admin/attributes/attribute/{attribute.pk}/delete/", {"post": "yes"})

    events = feed_events()
    assert [summary(e) for e in events] == [
        ("attribute.created", "vlan_id", "1", "", ""),
        ("attribute.updated", "vlan_id", "2", "", "1"),
        ("attribute.deleted", "vlan_id", "2", "", ""),
    ]
    assert {(e.channel, e.actor_username) for e in events} == {("admin", "admin")}


def test_csv_import_job_records_events_with_the_job_as_batch(client, editor, attribute):
    customer = attribute.customer
    csv_text = f"customer_id,attribute_name,attribute_value\n{customer.pk},external_crm_id,SF-7\n{customer.pk},plan,a\n"
    preview = client.post(
        "/attributes/import/", {"file": SimpleUploadedFile("a.csv", csv_text.encode(), content_type="text/csv")}
    )
    token = re.search(r'name="token" value="([^"]+)"', preview.content.decode()).group(1)
    before = len(feed_events())

    client.post("/attributes/import/", {"token": token})
    [job] = runner.run_queued()

    events = new_events(before)
    assert sorted(summary(e) for e in events) == [
        ("attribute.created", "plan", "a", "", ""),
        ("attribute.updated", "external_crm_id", "SF-7", "", "SF-12345"),
    ]
    assert {e.batch_id for e in events} == {job.pk}
    assert {(e.channel, e.actor_username) for e in events} == {("ui", "editor")}


def test_import_command_records_events_in_the_cli_channel(tmp_path, customer):
    path = tmp_path / "a.csv"
    path.write_text(f"customer_id,attribute_name,attribute_value\n{customer.pk},plan,a\n")

    call_command("import_attributes", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    [event] = feed_events()
    assert (summary(event), event.channel) == (("attribute.created", "plan", "a", "", ""), "cli")


def test_rename_all_and_merge_record_renamed_updated_and_deleted_events():
    renamer = make_user(*ALL, "manage_attribute_registry", username="renamer")
    plain, clash = make_customer(), make_customer()
    make_attribute(plain, "billingmethod", "card")
    make_attribute(clash, "billingmethod", "invoice")
    make_attribute(clash, "billing_method", "card")
    before = len(feed_events())

    report = services.attribute_rename_all(
        old="billingmethod", new="billing_method", actor=renamer, prefer="old", dry_run=False
    )

    assert report.written
    events = new_events(before)
    assert sorted((e.customer_id, *summary(e)) for e in events) == sorted(
        [
            (plain.pk, "attribute.renamed", "billing_method", "card", "billingmethod", ""),
            (clash.pk, "attribute.deleted", "billingmethod", "invoice", "", ""),
            (clash.pk, "attribute.updated", "billing_method", "invoice", "", "card"),
        ]
    )
    assert {e.actor_username for e in events} == {"renamer"}


def test_restore_records_a_created_event(client, editor, customer):
    attribute = make_attribute(customer, "vlan_id", "100")
    services.attribute_delete(attribute=attribute, actor=None)
    deleted = Attribute.history.filter(attribute_id=attribute.pk, history_type="-").get()
    before = len(feed_events())

    client.post(f"/customers/{customer.pk}/attributes/history/{deleted.history_id}/restore/")

    [event] = new_events(before)
    assert (summary(event), event.channel) == (("attribute.created", "vlan_id", "100", "", ""), "ui")
