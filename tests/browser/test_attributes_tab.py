"""The Attributes tab in a real browser: the modal, htmx swaps, the live counter and permission-driven buttons."""

import re

import pytest
from playwright.sync_api import Page, expect

from attributes.models import Attribute
from tests.conftest import PASSWORD
from tests.factories import make_attribute, make_user

pytestmark = pytest.mark.browser

EDITOR_PERMS = ("view_customer", "view_customer_attribute", "create_customer_attribute", "update_customer_attribute")


def tab_url(customer) -> str:
    return f"/customers/{customer.pk}/attributes/"


def row_for(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def test_add_attribute_appears_in_table_without_page_reload_or_page_errors(page, live_server, customer, console_errors):
    user = make_user("view_customer", "view_customer_attribute", "create_customer_attribute")

    page.goto("/accounts/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Acme Fiber Ltd").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Fiber Ltd")

    # Survives only if nothing below reloads the page: the tab and every write swap in place. A click before htmx
    # has processed the page is an ordinary link (progressive enhancement), so wait for the page to finish loading.
    page.wait_for_load_state("load")
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("window.__marker = 1")
    page.get_by_role("link", name="Attributes", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}{tab_url(customer)}")
    page.get_by_role("link", name="Add Attribute").click()

    modal = page.locator("#attribute-modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading")).to_contain_text("Add attribute to Acme Fiber Ltd")
    page.get_by_label("Attribute Name").fill("billing_plan")
    page.get_by_label("Attribute Value").fill("enterprise-annual")
    modal.get_by_role("button", name="Create Attribute").click()

    expect(row_for(page, "billing_plan")).to_contain_text("enterprise-annual")
    expect(modal).to_be_hidden()
    expect(page.locator("#messages .alert-success")).to_have_text("Attribute billing_plan created.")
    assert page.evaluate("window.__marker") == 1
    assert Attribute.objects.filter(
        customer=customer, attribute_name="billing_plan", attribute_value="enterprise-annual"
    ).exists()
    # JSON data islands (json_script) are inert under CSP; anything else inline would not run.
    expect(page.locator('script:not([src]):not([type="application/json"])')).to_have_count(0)
    assert console_errors == []


def test_value_over_150_characters_shows_error_in_modal_and_saves_nothing(page, sign_in, customer):
    sign_in(make_user(*EDITOR_PERMS))
    page.goto(tab_url(customer))
    page.get_by_role("link", name="Add Attribute").click()

    modal = page.locator("#attribute-modal")
    name = page.get_by_label("Attribute Name")
    value = page.get_by_label("Attribute Value")
    counter = modal.locator("#id_attribute_value_count")
    expect(counter).to_have_text("0 / 150")
    name.fill("support_notes")
    value.press_sequentially("SF-1")
    expect(counter).to_have_text("4 / 150")

    # fill() obeys maxlength like a paste would, so the value keeping 151 characters proves nothing cuts it.
    too_long = "x" * 151
    value.fill(too_long)
    expect(value).to_have_value(too_long)
    expect(counter).to_have_text("151 / 150")
    expect(counter).to_have_class(re.compile(r"\btext-danger\b"))
    modal.get_by_role("button", name="Create Attribute").click()

    expect(value).to_have_attribute("aria-invalid", "true")
    # The innermost block holding both the value field and the message: the field's own group.
    value_group = modal.locator("div").filter(has=value).filter(has_text="limited to 150 characters").last
    expect(value_group).to_be_visible()
    expect(value_group.get_by_label("Attribute Name")).to_have_count(0)
    expect(modal).to_be_visible()
    expect(value).to_have_value(too_long)
    expect(counter).to_have_text("151 / 150")
    assert not Attribute.objects.filter(customer=customer).exists()


def test_edit_through_pencil_updates_value_and_warns_on_rename(page, sign_in, customer, attribute):
    sign_in(make_user(*EDITOR_PERMS))
    page.goto(tab_url(customer))
    page.get_by_role("link", name="Edit external_crm_id").click()

    modal = page.locator("#attribute-modal")
    name = page.get_by_label("Attribute Name")
    value = page.get_by_label("Attribute Value")
    expect(modal).to_be_visible()
    expect(name).to_have_value("external_crm_id")
    expect(value).to_have_value("SF-12345")

    rename_note = modal.get_by_role("note", include_hidden=True)
    expect(rename_note).to_have_count(1)
    expect(rename_note).to_be_hidden()
    name.fill("external_crm_ref")
    expect(rename_note).to_be_visible()
    expect(rename_note).to_contain_text("Changing an attribute name creates a new key-value pair")
    name.fill("external_crm_id")
    expect(rename_note).to_be_hidden()

    value.fill("SF-99999")
    modal.get_by_role("button", name="Update Attribute").click()

    expect(row_for(page, "external_crm_id")).to_contain_text("SF-99999")
    expect(modal).to_be_hidden()
    expect(page.locator("#messages .alert-success")).to_have_text("Attribute external_crm_id updated.")
    attribute.refresh_from_db()
    assert attribute.attribute_value == "SF-99999"


def test_delete_through_trash_after_confirming(page, sign_in, customer, attribute):
    make_attribute(customer, "billing_plan", "enterprise-annual")
    sign_in(make_user("view_customer", "view_customer_attribute", "delete_customer_attribute"))
    page.goto(tab_url(customer))
    page.get_by_role("link", name="Delete external_crm_id").click()

    modal = page.locator("#attribute-modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading")).to_contain_text("external_crm_id")
    warning = modal.get_by_role("alert").filter(has_text="may cause failures. Verify dependencies before deletion.")
    expect(warning).to_be_visible()
    modal.get_by_role("button", name="Delete", exact=True).click()

    expect(modal).to_be_hidden()
    expect(row_for(page, "external_crm_id")).to_have_count(0)
    expect(row_for(page, "billing_plan")).to_be_visible()
    expect(page.locator("#messages .alert-success")).to_have_text("Attribute external_crm_id deleted.")
    assert not Attribute.objects.filter(pk=attribute.pk).exists()


def test_view_only_user_sees_table_without_add_edit_delete(page, sign_in, customer, attribute):
    sign_in(make_user("view_customer", "view_customer_attribute"))
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("link", name="Attributes", exact=True).click()

    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Attribute Name", "Attribute Value", "Created", "Last Modified"]
    )
    expect(row_for(page, "external_crm_id")).to_contain_text("SF-12345")
    expect(page.get_by_role("link", name=re.compile(r"^Add (Attribute|the first attribute)$"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^(Edit|Delete) external_crm_id$"))).to_have_count(0)
    expect(table.get_by_role("button")).to_have_count(0)
    # Nothing on the page can load a form into the modal.
    expect(page.locator('[hx-target="#attribute-modal-content"]')).to_have_count(0)
