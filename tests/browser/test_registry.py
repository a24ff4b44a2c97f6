"""The attribute registry in a real browser: the Add modal's expected-format hint, table tooltips, protected delete."""

import pytest
from playwright.sync_api import Page, expect

from attributes.models import Attribute, AttributeDefinition
from tests.factories import make_attribute, make_user

pytestmark = pytest.mark.browser

EDITOR_PERMS = (
    "view_customer",
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)


def define(name: str, value_type: str, **fields) -> AttributeDefinition:
    definition = AttributeDefinition(name=name, value_type=value_type, **fields)
    definition.full_clean()
    definition.save()
    return definition


def tab_url(customer) -> str:
    return f"/customers/{customer.pk}/attributes/"


def test_typing_a_defined_name_in_the_add_modal_shows_its_expected_format(page: Page, sign_in, customer):
    define(
        "support_tier",
        "choice",
        choices="gold\nsilver\nbronze",
        example="gold",
        description="Support level sold with the contract.",
    )
    sign_in(make_user(*EDITOR_PERMS))
    page.goto(tab_url(customer))
    page.get_by_role("link", name="Add Attribute").click()

    modal = page.locator("#attribute-modal")
    name = page.get_by_role("combobox", name="Attribute Name", exact=True)
    value = page.get_by_role("textbox", name="Attribute Value", exact=True)
    hint = modal.locator(".name-hint-defined")
    expect(hint).to_be_hidden()
    expect(modal.locator("#attribute-name-suggestions option")).to_have_attribute("value", "support_tier")

    name.press_sequentially("support_tie")
    expect(hint).to_be_hidden()
    name.press_sequentially("r")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Support level sold with the contract.")
    expect(hint).to_contain_text("Expected format: one of: gold, silver, bronze")
    expect(name).to_have_accessible_description("Lowercase with underscores, e.g. external_crm_id " + hint.inner_text())
    expect(value).to_have_attribute("placeholder", "gold")

    # A value that does not fit comes back with the format quoted; the hint stays.
    value.fill("platinum")
    modal.get_by_role("button", name="Create Attribute").click()
    expect(modal.locator(".invalid-feedback")).to_contain_text("expected one of: gold, silver, bronze")
    expect(modal.locator(".name-hint-defined")).to_be_visible()
    assert not Attribute.objects.filter(customer=customer).exists()

    name = page.get_by_role("combobox", name="Attribute Name", exact=True)
    name.fill("free_note")
    expect(modal.locator(".name-hint-defined")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Attribute Value", exact=True)).to_have_attribute("placeholder", "SF-12345")


def test_defined_name_in_the_table_shows_its_description_on_keyboard_focus(page: Page, sign_in, customer):
    define("billing_day", "integer", description="Day of the month the invoice goes out.")
    make_attribute(customer, "billing_day", "5")
    make_attribute(customer, "free_note", "x")
    sign_in(make_user(*EDITOR_PERMS))
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("link", name="Attributes", exact=True).click()  # the table arrives by htmx

    defined = page.locator(".attr-defined", has_text="billing_day")
    defined.focus()
    tooltip = page.get_by_role("tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text("Day of the month the invoice goes out. — Expected: a whole number, e.g. 100")
    expect(defined).to_have_accessible_description(tooltip.inner_text())

    defined.blur()
    expect(tooltip).to_be_hidden()
    page.locator(".attr-defined", has_text="billing_day").hover()
    expect(page.get_by_role("tooltip")).to_be_visible()


def test_protected_attribute_is_deleted_only_after_typing_its_name(page: Page, sign_in, customer):
    define("billing_account_id", "text", protected=True, dependent_systems="billing, RADIUS")
    attribute = make_attribute(customer, "billing_account_id", "BA-1")
    sign_in(make_user(*EDITOR_PERMS))
    page.goto(tab_url(customer))
    page.get_by_role("link", name="Delete billing_account_id").click()

    modal = page.locator("#attribute-modal")
    expect(modal).to_contain_text("Used by: billing, RADIUS.")
    confirm = modal.get_by_role("textbox", name="billing_account_id is protected. Type its name to confirm:")
    confirm.fill("billing")
    modal.get_by_role("button", name="Delete", exact=True).click()
    expect(modal.locator(".invalid-feedback")).to_contain_text("type its name to confirm the deletion")
    assert Attribute.objects.filter(pk=attribute.pk).exists()

    modal.get_by_role("textbox", name="billing_account_id is protected. Type its name to confirm:").fill(
        "billing_account_id"
    )
    modal.get_by_role("button", name="Delete", exact=True).click()
    expect(modal).to_be_hidden()
    expect(page.locator("#messages .alert-success")).to_have_text("Attribute billing_account_id deleted.")
    assert not Attribute.objects.filter(pk=attribute.pk).exists()
