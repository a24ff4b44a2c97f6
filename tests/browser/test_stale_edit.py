"""Lost-update protection in the UI: the Edit and Delete dialogs never overwrite a change made meanwhile."""

import pytest
from playwright.sync_api import expect

from attributes import services
from attributes.models import Attribute
from tests.factories import make_user

pytestmark = pytest.mark.browser

EDITOR = ("view_customer", "view_customer_attribute", "update_customer_attribute", "delete_customer_attribute")


def test_edit_of_an_attribute_changed_meanwhile_shows_the_current_value_instead_of_overwriting(
    page, sign_in, customer, attribute
):
    sign_in(make_user(*EDITOR))
    page.goto(f"/customers/{customer.pk}/attributes/")
    page.get_by_role("link", name="Edit external_crm_id").click()
    modal = page.locator("#attribute-modal")
    expect(page.get_by_label("Attribute Value")).to_have_value("SF-12345")

    # Someone else changes it while the dialog is open.
    services.attribute_update(attribute=attribute, value="SF-OTHER", actor=None)

    page.get_by_label("Attribute Value").fill("SF-MINE")
    modal.get_by_role("button", name="Update Attribute").click()

    expect(modal.locator("#stale-warning")).to_contain_text("Someone else changed this attribute")
    expect(modal).to_be_visible()
    expect(page.get_by_label("Attribute Value")).to_have_value("SF-OTHER")
    attribute.refresh_from_db()
    assert attribute.attribute_value == "SF-OTHER"

    # Submitting again, now from the current version, saves.
    page.get_by_label("Attribute Value").fill("SF-MINE")
    modal.get_by_role("button", name="Update Attribute").click()
    expect(modal).to_be_hidden()
    attribute.refresh_from_db()
    assert attribute.attribute_value == "SF-MINE"


def test_delete_of_an_attribute_changed_meanwhile_asks_again_with_the_current_value(page, sign_in, customer, attribute):
    sign_in(make_user(*EDITOR))
    page.goto(f"/customers/{customer.pk}/attributes/")
    page.get_by_role("link", name="Delete external_crm_id").click()
    modal = page.locator("#attribute-modal")
    expect(modal).to_contain_text("SF-12345")

    services.attribute_update(attribute=attribute, value="SF-OTHER", actor=None)
    modal.get_by_role("button", name="Delete", exact=True).click()

    expect(modal.locator("#stale-warning")).to_contain_text("nothing was deleted")
    expect(modal).to_contain_text("SF-OTHER")
    assert Attribute.objects.filter(pk=attribute.pk).exists()

    modal.get_by_role("button", name="Delete", exact=True).click()
    expect(modal).to_be_hidden()
    assert not Attribute.objects.filter(pk=attribute.pk).exists()
