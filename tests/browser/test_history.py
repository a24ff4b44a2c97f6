"""The History tab in a real browser: delete an attribute, then bring it back with one click on Restore."""

import pytest
from playwright.sync_api import Page, expect

from attributes import services
from attributes.models import Attribute
from tests.factories import make_attribute, make_user

pytestmark = pytest.mark.browser

EDITOR_PERMS = (
    "view_customer",
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)


def row_for(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def test_restore_a_deleted_attribute_from_the_history_tab(page, sign_in, live_server, customer, attribute):
    make_attribute(customer, "billing_plan", "enterprise-annual")
    sign_in(make_user(*EDITOR_PERMS))
    page.goto(f"/customers/{customer.pk}/attributes/")

    # Delete through the UI, as a user would.
    page.get_by_role("link", name="Delete external_crm_id").click()
    modal = page.locator("#attribute-modal")
    modal.get_by_role("button", name="Delete", exact=True).click()
    expect(row_for(page, "external_crm_id")).to_have_count(0)
    deleted = Attribute.history.get(attribute_id=attribute.pk, history_type="-")

    page.get_by_role("link", name="History", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/attributes/history/")
    history = page.get_by_role("table", name="Attribute history of Acme Fiber Ltd")
    deleted_row = history.locator(f"#history-{deleted.history_id}")
    expect(deleted_row).to_contain_text("deleted")
    expect(deleted_row).to_contain_text("SF-12345")
    # The current billing_plan row offers nothing to restore.
    current = history.get_by_role("row").filter(has_text="enterprise-annual")
    expect(current.get_by_role("button")).to_have_count(0)

    deleted_row.get_by_role("button", name="Restore external_crm_id = SF-12345").click()

    expect(page.locator("#messages .alert-success")).to_have_text("Restored external_crm_id = “SF-12345”.")
    newest = history.get_by_role("row").nth(1)  # row 0 is the header
    expect(newest).to_contain_text("restore")
    expect(newest).to_contain_text("SF-12345")
    expect(newest.get_by_role("button")).to_have_count(0)  # it is the current value now

    page.get_by_role("link", name="Attributes", exact=True).click()
    expect(row_for(page, "external_crm_id")).to_contain_text("SF-12345")
    expect(row_for(page, "billing_plan")).to_contain_text("enterprise-annual")
    restored = Attribute.objects.get(customer=customer, attribute_name="external_crm_id")
    assert restored.attribute_value == "SF-12345"
    assert Attribute.history.filter(attribute_id=restored.pk).latest("history_id").operation == "restore"


def test_view_only_user_sees_history_without_restore_buttons(page, sign_in, customer, attribute):
    services.attribute_delete(attribute=attribute, actor=None)
    sign_in(make_user("view_customer", "view_customer_attribute"))
    page.goto(f"/customers/{customer.pk}/")

    page.get_by_role("link", name="History", exact=True).click()

    history = page.get_by_role("table", name="Attribute history of Acme Fiber Ltd")
    expect(history.get_by_role("row")).to_have_count(3)  # header, created, deleted
    expect(history.get_by_role("button")).to_have_count(0)
