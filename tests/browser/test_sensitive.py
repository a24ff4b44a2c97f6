"""A sensitive value in a real browser: dots in the tab, Reveal shows it (logged), and it hides again by itself."""

import pytest
from playwright.sync_api import expect

from attributes import services
from attributes.models import SensitiveReveal
from tests.conftest import PASSWORD
from tests.factories import make_user

pytestmark = pytest.mark.browser

SECRET = "sk_live_Browser5Tq2Zx"


def test_reveal_shows_the_value_then_hides_it_again(page, live_server, customer, settings):
    settings.ATTRIBUTES_REVEAL_SECONDS = 1
    services.definition_create(actor=None, name="api_key", sensitive=True)
    services.attribute_upsert(customer=customer, name="api_key", value=SECRET, actor=None)
    user = make_user("view_customer", "view_customer_attribute", "view_sensitive_customer_attribute")

    page.goto("/accounts/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/customers/{customer.pk}/attributes/")
    page.wait_for_function("window.htmx !== undefined")
    cell = page.locator(".attr-sensitive")
    expect(cell).to_contain_text("••••••••")
    assert SECRET not in page.content()

    page.get_by_role("button", name="Reveal api_key").click()
    expect(cell).to_contain_text(SECRET)
    expect(cell).not_to_contain_text(SECRET, timeout=5000)  # hidden again after 1 s
    expect(cell).to_contain_text("••••••••")
    page.get_by_role("button", name="Reveal api_key").click()  # the control works again
    expect(cell).to_contain_text(SECRET)
    assert SensitiveReveal.objects.filter(channel="ui", username=user.username).count() == 2
