"""Every write path leaves a history row saying what changed, from what, by whom and through which path."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attributes import services
from attributes.models import Attribute
from jobs import runner
from tests.factories import make_attribute, make_customer, make_user

from .conftest import ALL, CREATE, VIEW, bearer, expected, history_rows, latest, summary

pytestmark = pytest.mark.django_db


def tab(customer, suffix: str = "") -> str:
    return f"/customers/{customer.pk}/attributes/{suffix}"


def new_rows(before: int) -> list:
    """History rows written after the first `before` ones, oldest first."""
    return history_rows()[before:]


# --- system writes -----------------------------------------------------------------------------------------------


def test_service_write_without_a_request_is_recorded_as_system(customer):
    attribute = make_attribute(customer, "external_crm_id", "SF-12345")

    row = latest(attribute_id=attribute.pk)

    assert summary(row) == expected(
        history_type="+",
        operation="create",
        channel="system",
        attribute_name="external_crm_id",
        attribute_value="SF-12345",
    )
    assert row.customer_id == customer.pk
    assert row.history_user_id is None


def test_a_later_save_of_the_same_instance_is_not_recorded_with_the_earlier_writes_marks(customer):
    attribute = make_attribute(customer, "external_crm_id", "SF-12345")  # marked as a "create"

    attribute.attribute_value = "SF-2"
    attribute.save()
    attribute.delete()

    assert [(r.history_type, r.operation) for r in history_rows(customer_id=customer.pk)] == [
        ("+", "create"),
        ("~", "update"),
        ("-", "delete"),
    ]


# --- UI ----------------------------------------------------------------------------------------------------------


def test_ui_add_records_a_create_by_the_signed_in_user(client, editor, customer):
    response = client.post(tab(customer, "add/"), {"attribute_name": "billing_plan", "attribute_value": "annual"})

    assert response.status_code == 302
    attribute = Attribute.objects.get(customer=customer, attribute_name="billing_plan")
    row = latest(attribute_id=attribute.pk)
    assert summary(row) == expected(
        history_type="+",
        operation="create",
        channel="ui",
        actor_name="editor",
        attribute_name="billing_plan",
        attribute_value="annual",
    )
    assert row.history_user_id == editor.pk
    assert row.customer_id == customer.pk


def test_ui_add_of_an_existing_name_records_an_update_with_the_previous_value(client, editor, attribute):
    client.post(tab(attribute.customer, "add/"), {"attribute_name": "external_crm_id", "attribute_value": "SF-2"})

    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="update",
        channel="ui",
        actor_name="editor",
        attribute_name="external_crm_id",
        attribute_value="SF-2",
        previous_value="SF-12345",
    )


def test_ui_edit_value_records_an_update(client, editor, attribute):
    response = client.post(
        tab(attribute.customer, f"{attribute.pk}/edit/"),
        {"attribute_name": "external_crm_id", "attribute_value": "SF-99", "version": attribute.etag},
    )

    assert response.status_code == 302
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="update",
        channel="ui",
        actor_name="editor",
        attribute_name="external_crm_id",
        attribute_value="SF-99",
        previous_value="SF-12345",
    )


def test_ui_rename_records_the_previous_name_and_no_previous_value(client, editor, attribute):
    client.post(
        tab(attribute.customer, f"{attribute.pk}/edit/"),
        {"attribute_name": "salesforce_id", "attribute_value": "SF-12345"},
    )

    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="rename",
        channel="ui",
        actor_name="editor",
        attribute_name="salesforce_id",
        attribute_value="SF-12345",
        previous_name="external_crm_id",
    )


def test_ui_rename_with_a_new_value_records_both_previous_name_and_value(client, editor, attribute):
    client.post(
        tab(attribute.customer, f"{attribute.pk}/edit/"), {"attribute_name": "salesforce_id", "attribute_value": "SF-1"}
    )

    row = latest(attribute_id=attribute.pk)
    assert (row.operation, row.previous_name, row.previous_value) == ("rename", "external_crm_id", "SF-12345")
    assert (row.attribute_name, row.attribute_value) == ("salesforce_id", "SF-1")


def test_ui_edit_that_changes_nothing_records_nothing(client, editor, attribute):
    before = len(history_rows())

    client.post(
        tab(attribute.customer, f"{attribute.pk}/edit/"),
        {"attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
    )

    assert new_rows(before) == []


def test_ui_delete_records_the_deleted_name_and_value(client, editor, attribute):
    response = client.post(tab(attribute.customer, f"{attribute.pk}/delete/"), {"version": attribute.etag})

    assert response.status_code == 302
    assert not Attribute.objects.filter(pk=attribute.pk).exists()
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="-",
        operation="delete",
        channel="ui",
        actor_name="editor",
        attribute_name="external_crm_id",
        attribute_value="SF-12345",
    )


def test_ui_rename_onto_an_existing_name_is_refused_and_records_nothing(client, editor, attribute):
    make_attribute(attribute.customer, "salesforce_id", "SF-1")
    before = len(history_rows())

    response = client.post(
        tab(attribute.customer, f"{attribute.pk}/edit/"),
        {"attribute_name": "salesforce_id", "attribute_value": "SF-12345"},
    )

    assert response.status_code == 200
    assert "already has an attribute named" in response.content.decode()
    assert new_rows(before) == []


def test_refused_ui_write_records_nothing(client, attribute):
    client.force_login(make_user(VIEW, CREATE))  # may add, may not update the existing name
    before = len(history_rows())

    response = client.post(
        tab(attribute.customer, "add/"), {"attribute_name": "external_crm_id", "attribute_value": "SF-2"}
    )

    assert response.status_code == 403
    assert new_rows(before) == []


# --- API ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def api_user(db):
    return make_user(*ALL, username="integration")


@pytest.fixture
def api(api_user):
    return bearer(api_user, "billing-sync")


def test_api_put_create_records_the_user_and_token_name(api, api_user, customer):
    response = api.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
        format="json",
    )

    assert response.status_code == 201
    row = latest(attribute_id=response.json()["attribute_id"])
    assert summary(row) == expected(
        history_type="+",
        operation="create",
        channel="api",
        actor_name="integration",
        token_name="billing-sync",
        attribute_name="billing_plan",
        attribute_value="annual",
    )
    assert row.history_user_id == api_user.pk


def test_api_put_update_records_the_previous_value(api, attribute):
    response = api.put(
        "/crm/attribute/",
        {"customer_id": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "SF-2"},
        format="json",
    )

    assert response.status_code == 200
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="update",
        channel="api",
        actor_name="integration",
        token_name="billing-sync",
        attribute_name="external_crm_id",
        attribute_value="SF-2",
        previous_value="SF-12345",
    )


def test_api_put_of_the_same_value_records_nothing(api, attribute):
    before = len(history_rows())

    response = api.put(
        "/crm/attribute/",
        {"customer_id": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
        format="json",
    )

    assert response.status_code == 200
    assert new_rows(before) == []


def test_api_patch_rename_records_the_previous_name(api, attribute):
    response = api.patch(
        f"/crm/attribute/attribute_id/{attribute.pk}", {"attribute_name": "salesforce_id"}, format="json"
    )

    assert response.status_code == 200
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="rename",
        channel="api",
        actor_name="integration",
        token_name="billing-sync",
        attribute_name="salesforce_id",
        attribute_value="SF-12345",
        previous_name="external_crm_id",
    )


def test_api_patch_value_records_an_update(api, attribute):
    api.patch(f"/crm/attribute/attribute_id/{attribute.pk}", {"attribute_value": "SF-3"}, format="json")

    row = latest(attribute_id=attribute.pk)
    assert (row.history_type, row.operation, row.previous_name, row.previous_value) == ("~", "update", "", "SF-12345")


def test_api_delete_records_the_deleted_name_and_value(api, attribute):
    response = api.delete(f"/crm/attribute/attribute_id/{attribute.pk}")

    assert response.status_code == 200
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="-",
        operation="delete",
        channel="api",
        actor_name="integration",
        token_name="billing-sync",
        attribute_name="external_crm_id",
        attribute_value="SF-12345",
    )


def test_api_with_a_session_records_no_token_name(client, editor, customer):
    response = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
        content_type="application/json",
    )

    assert response.status_code == 201
    row = latest(attribute_id=response.json()["attribute_id"])
    assert (row.channel, row.actor_name, row.token_name) == ("api", "editor", "")


def test_token_name_does_not_leak_into_the_next_request(api, client, editor, customer):
    api.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
        format="json",
    )

    client.post(tab(customer, "add/"), {"attribute_name": "support_tier", "attribute_value": "gold"})

    row = latest(customer_id=customer.pk, attribute_name="support_tier")
    assert (row.channel, row.actor_name, row.token_name) == ("ui", "editor", "")


def test_each_token_is_named_in_its_own_rows(api_user, customer):
    first, second = bearer(api_user, "billing-sync"), bearer(api_user, "radius-provisioning")

    for client, value in ((first, "annual"), (second, "monthly")):
        client.put(
            "/crm/attribute/",
            {"customer_id": customer.pk, "attribute_name": "billing_plan", "attribute_value": value},
            format="json",
        )

    assert [r.token_name for r in history_rows(customer_id=customer.pk)] == ["billing-sync", "radius-provisioning"]


# --- bulk API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def two_customers(db):
    first, second = make_customer(customer_name="First"), make_customer(customer_name="Second")
    make_attribute(first, "external_crm_id", "SF-1")
    make_attribute(second, "external_crm_id", "SF-2")
    return first, second


def test_bulk_records_one_row_per_created_or_updated_item_and_none_for_unchanged(api, two_customers):
    first, second = two_customers
    before = len(history_rows())

    response = api.put(
        "/crm/attribute/bulk/",
        [
            {"customer_id": first.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
            {"customer_id": first.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-100"},
            {"customer_id": second.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-2"},
        ],
        format="json",
    )

    assert response.status_code == 200
    assert [item["result"] for item in response.json()] == ["created", "updated", "unchanged"]
    rows = sorted(new_rows(before), key=lambda r: r.history_type)
    common = {"operation": "bulk", "channel": "api", "actor_name": "integration", "token_name": "billing-sync"}
    assert [summary(r) for r in rows] == [
        expected(history_type="+", attribute_name="billing_plan", attribute_value="annual", **common),
        expected(
            history_type="~",
            attribute_name="external_crm_id",
            attribute_value="SF-100",
            previous_value="SF-1",
            **common,
        ),
    ]
    created = Attribute.objects.get(customer=first, attribute_name="billing_plan")
    assert {r.attribute_id for r in rows} == {created.pk, first.attributes.get(attribute_name="external_crm_id").pk}
    assert all(r.customer_id == first.pk for r in rows)


def test_bulk_writes_its_history_rows_in_the_same_transaction_as_the_attributes(api, two_customers):
    first, _ = two_customers

    with CaptureQueriesContext(connection) as queries:
        response = api.put(
            "/crm/attribute/bulk/",
            [
                {"customer_id": first.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
                {"customer_id": first.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-100"},
            ],
            format="json",
        )

    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    first_write = next(i for i, s in enumerate(sql) if re.match(r'INSERT INTO "attributes_attribute"', s))
    # Bulk history rows go in by executemany (SQLite) or COPY (PostgreSQL), logged as "N times: …".
    history_sql = re.compile(r'(INSERT INTO|COPY) "attributes_historicalattribute"')
    history_write = next(i for i, s in enumerate(sql) if history_sql.search(s))
    opened = max(i for i, s in enumerate(sql[:first_write]) if s.startswith("SAVEPOINT"))
    savepoint = sql[opened].split()[-1]
    closed = next(i for i, s in enumerate(sql) if i > opened and s.endswith(f"SAVEPOINT {savepoint}"))
    assert opened < first_write < history_write < closed
    assert sql[closed].startswith("RELEASE")  # committed together, not rolled back


def test_bulk_with_an_invalid_item_writes_no_history(api, two_customers):
    first, second = two_customers
    before = len(history_rows())

    response = api.put(
        "/crm/attribute/bulk/",
        [
            {"customer_id": first.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
            {"customer_id": second.pk, "attribute_name": "Bad Name", "attribute_value": "x"},
        ],
        format="json",
    )

    assert response.status_code == 400
    assert new_rows(before) == []
    assert not Attribute.objects.filter(attribute_name="billing_plan").exists()


def test_bulk_refused_midway_writes_no_history(two_customers):
    first, second = two_customers
    creator = bearer(make_user(VIEW, CREATE), "creator-token")  # may create, may not update existing names
    before = len(history_rows())

    response = creator.put(
        "/crm/attribute/bulk/",
        [
            {"customer_id": first.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
            {"customer_id": second.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-200"},
        ],
        format="json",
    )

    assert response.status_code == 403
    assert new_rows(before) == []
    assert not Attribute.objects.filter(attribute_name="billing_plan").exists()


# --- CSV import --------------------------------------------------------------------------------------------------


def upload(client, text: str):
    file = SimpleUploadedFile("attributes.csv", text.encode(), content_type="text/csv")
    return client.post("/attributes/import/", {"file": file})


def test_web_import_records_import_rows_in_the_ui_channel(client, editor, attribute):
    customer = attribute.customer
    before = len(history_rows())
    csv_text = (
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},external_crm_id,SF-777\n"
        f"{customer.pk},billing_plan,annual\n"
    )
    preview = upload(client, csv_text).content.decode()
    assert new_rows(before) == []  # the preview is a dry run
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)

    client.post("/attributes/import/", {"token": token})
    runner.run_queued()  # the import job records what the request would have: the ui channel, the editor

    rows = sorted(new_rows(before), key=lambda r: r.history_type)
    common = {"operation": "import", "channel": "ui", "actor_name": "editor"}
    assert [summary(r) for r in rows] == [
        expected(history_type="+", attribute_name="billing_plan", attribute_value="annual", **common),
        expected(
            history_type="~",
            attribute_name="external_crm_id",
            attribute_value="SF-777",
            previous_value="SF-12345",
            **common,
        ),
    ]


def test_service_import_with_a_rejected_row_writes_no_history(attribute):
    before = len(history_rows())
    rows = [(2, attribute.customer_id, "billing_plan", "annual"), (3, attribute.customer_id, "Bad Name", "x")]

    report = services.attribute_import(rows=rows, actor=None, dry_run=False)

    assert not report.written
    assert new_rows(before) == []


def test_service_import_dry_run_writes_no_history(attribute):
    before = len(history_rows())

    report = services.attribute_import(rows=[(2, attribute.customer_id, "plan", "a")], actor=None, dry_run=True)

    assert report.created == 1
    assert new_rows(before) == []


def test_import_command_records_import_rows_by_the_named_user(tmp_path, attribute):
    make_user(*ALL, username="ops")
    path = tmp_path / "attributes.csv"
    path.write_text(f"customer_id,attribute_name,attribute_value\n{attribute.customer_id},billing_plan,annual\n")

    call_command("import_attributes", str(path), "--user", "ops", stdout=io.StringIO(), stderr=io.StringIO())

    row = latest(customer_id=attribute.customer_id, attribute_name="billing_plan")
    assert (row.history_type, row.operation, row.actor_name, row.attribute_value) == ("+", "import", "ops", "annual")


def test_import_command_records_the_cli_channel(tmp_path, attribute):
    path = tmp_path / "attributes.csv"
    path.write_text(f"customer_id,attribute_name,attribute_value\n{attribute.customer_id},billing_plan,annual\n")

    call_command("import_attributes", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert latest(customer_id=attribute.customer_id, attribute_name="billing_plan").channel == "cli"


# --- admin -------------------------------------------------------------------------------------------------------


def test_admin_add_records_a_create_in_the_admin_channel(admin_client_, customer):
    response = admin_client_.post(
        "/admin/attributes/attribute/add/",
        {"customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": "100"},
    )

    assert response.status_code == 302
    attribute = Attribute.objects.get(customer=customer, attribute_name="vlan_id")
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="+",
        operation="create",
        channel="admin",
        actor_name="admin",
        attribute_name="vlan_id",
        attribute_value="100",
    )


def test_admin_change_records_a_rename_and_the_new_value(admin_client_, attribute):
    response = admin_client_.post(
        f"/admin/attributes/attribute/{attribute.pk}/change/",
        {"customer": attribute.customer_id, "attribute_name": "salesforce_id", "attribute_value": "SF-9"},
    )

    assert response.status_code == 302
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="rename",
        channel="admin",
        actor_name="admin",
        attribute_name="salesforce_id",
        attribute_value="SF-9",
        previous_name="external_crm_id",
        previous_value="SF-12345",
    )


def test_admin_delete_records_a_delete(admin_client_, attribute):
    response = admin_client_.post(f"/admin/attributes/attribute/{attribute.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Attribute.objects.filter(pk=attribute.pk).exists()
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="-",
        operation="delete",
        channel="admin",
        actor_name="admin",
        attribute_name="external_crm_id",
        attribute_value="SF-12345",
    )


def test_admin_delete_selected_records_a_delete_per_attribute(admin_client_, attribute):
    other = make_attribute(attribute.customer, "billing_plan", "annual")

    response = admin_client_.post(
        "/admin/attributes/attribute/",
        {"action": "delete_selected", "_selected_action": [attribute.pk, other.pk], "post": "yes"},
    )

    assert response.status_code == 302
    rows = [latest(attribute_id=a.pk) for a in (attribute, other)]
    assert [(r.history_type, r.operation, r.channel, r.actor_name) for r in rows] == [
        ("-", "delete", "admin", "admin"),
        ("-", "delete", "admin", "admin"),
    ]


# --- rename across customers -------------------------------------------------------------------------------------


@pytest.fixture
def renamer(db):
    return make_user(*ALL, "manage_attribute_registry", username="renamer")


def test_rename_all_records_a_rename_all_row_per_renamed_attribute(renamer):
    attributes = [make_attribute(make_customer(), "billingmethod", value) for value in ("card", "invoice")]

    report = services.attribute_rename_all(old="billingmethod", new="billing_method", actor=renamer, dry_run=False)

    assert report.written and report.renamed == 2
    for attribute in attributes:
        assert summary(latest(attribute_id=attribute.pk)) == expected(
            history_type="~",
            operation="rename_all",
            channel="system",
            actor_name="renamer",
            attribute_name="billing_method",
            attribute_value=attribute.attribute_value,
            previous_name="billingmethod",
        )


def test_rename_all_merge_records_the_deleted_old_name_and_the_winning_value(renamer):
    same, different = make_customer(), make_customer()
    same_old = make_attribute(same, "billingmethod", "card")
    same_new = make_attribute(same, "billing_method", "card")
    different_old = make_attribute(different, "billingmethod", "invoice")
    different_new = make_attribute(different, "billing_method", "card")
    before = len(history_rows())

    report = services.attribute_rename_all(
        old="billingmethod", new="billing_method", actor=renamer, prefer="old", dry_run=False
    )

    assert report.merged == 2
    assert len(new_rows(before)) == 3  # two deleted old names, one changed value; nothing for same_new
    assert latest(attribute_id=same_new.pk).history_type == "+"
    for old in (same_old, different_old):
        assert summary(latest(attribute_id=old.pk)) == expected(
            history_type="-",
            operation="merge",
            channel="system",
            actor_name="renamer",
            attribute_name="billingmethod",
            attribute_value=old.attribute_value,
        )
    assert summary(latest(attribute_id=different_new.pk)) == expected(
        history_type="~",
        operation="merge",
        channel="system",
        actor_name="renamer",
        attribute_name="billing_method",
        attribute_value="invoice",
        previous_value="card",
    )


def test_refused_or_dry_run_rename_all_records_nothing(renamer):
    customer = make_customer()
    make_attribute(customer, "billingmethod", "invoice")
    make_attribute(customer, "billing_method", "card")
    make_attribute(make_customer(), "billingmethod", "card")
    before = len(history_rows())

    refused = services.attribute_rename_all(old="billingmethod", new="billing_method", actor=renamer, dry_run=False)
    dry_run = services.attribute_rename_all(
        old="billingmethod", new="billing_method", actor=renamer, prefer="new", dry_run=True
    )

    assert refused.conflicts and not refused.written
    assert dry_run.merged == 1 and not dry_run.written
    assert new_rows(before) == []


def test_rename_attribute_command_records_rename_all_rows_in_the_cli_channel():
    attribute = make_attribute(make_customer(), "billingmethod", "card")

    call_command("rename_attribute", "billingmethod", "billing_method", stdout=io.StringIO())

    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="rename_all",
        channel="cli",
        attribute_name="billing_method",
        attribute_value="card",
        previous_name="billingmethod",
    )


# --- seed_demo ---------------------------------------------------------------------------------------------------


def test_seed_demo_records_every_seeded_attribute_in_the_seed_channel(settings):
    settings.DEBUG = False

    call_command("seed_demo", "--customers", "3", stdout=io.StringIO())

    rows = history_rows()
    assert len(rows) == Attribute.objects.count() > 0
    assert {(r.history_type, r.operation, r.channel, r.actor_name, r.token_name) for r in rows} == {
        ("+", "seed", "seed", "", "")
    }
    assert {(r.attribute_id, r.attribute_name, r.attribute_value) for r in rows} == set(
        Attribute.objects.values_list("attribute_id", "attribute_name", "attribute_value")
    )
