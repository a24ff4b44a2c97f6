"""The customer list's attribute filter row in a real browser: app.js names the value input after the chosen
operator, so the submitted URL holds the API's parameter names (tests/features/test_attribute_filter.py covers
what the server does with them)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import make_attribute, make_customer, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def tiers(db):
    make_attribute(make_customer(customer_name="Acme Fiber"), "support_tier", "gold")
    make_attribute(make_customer(customer_name="Blue Networks"), "support_tier", "Premium Plus")
    premier = make_customer(customer_name="Premier Cable")
    make_attribute(premier, "support_tier", "Premier")
    make_attribute(premier, "region", "north")
    make_customer(customer_name="Delta Data")


def listed(page: Page) -> list[str]:
    return page.get_by_role("table", name="Customers").locator("tbody td[data-label=Name]").all_inner_texts()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def test_starts_with_submits_attribute_value_startswith(page, sign_in, tiers):
    sign_in(make_user("view_customer", "view_customer_attribute"))
    page.goto("/customers/")

    page.get_by_label("Attribute name").fill("support_tier")
    page.get_by_label("Operator").select_option(label="starts with")
    page.get_by_label("Value", exact=True).fill("Prem")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"attribute_value__startswith=Prem"))
    assert query(page)["attribute_name"] == ["support_tier"]
    assert "attribute_value" not in query(page) and "attribute_exists" not in query(page)
    assert listed(page) == ["Blue Networks", "Premier Cable"]
    # The page keeps the choice, so submitting again asks the same.
    expect(page.get_by_label("Operator")).to_have_value("startswith")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"attribute_value__startswith=Prem"))
    assert listed(page) == ["Blue Networks", "Premier Cable"]


def test_lacks_attribute_submits_attribute_exists_false(page, sign_in, tiers):
    sign_in(make_user("view_customer", "view_customer_attribute"))
    page.goto("/customers/")

    page.get_by_label("Attribute name").fill("region")
    page.get_by_label("Value", exact=True).fill("typed before choosing")
    page.get_by_label("Operator").select_option(label="lacks attribute")
    expect(page.get_by_label("Value", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"attribute_exists=false"))
    assert query(page)["attribute_name"] == ["region"]
    assert not {"attribute_value", "attribute_value__startswith"} & set(query(page))
    assert listed(page) == ["Acme Fiber", "Blue Networks", "Delta Data"]
    expect(page.get_by_label("Operator")).to_have_value("missing")


def test_switching_back_to_a_value_operator_sends_the_value_again(page, sign_in, tiers):
    sign_in(make_user("view_customer", "view_customer_attribute"))
    page.goto("/customers/?attribute_name=support_tier&attribute_exists=true")

    page.get_by_label("Operator").select_option(label="contains")
    page.get_by_label("Value", exact=True).fill("plus")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"attribute_value__icontains=plus"))
    assert "attribute_exists" not in query(page)
    assert listed(page) == ["Blue Networks"]


def test_row_replaces_a_hidden_condition_of_the_same_parameter(page, sign_in, tiers):
    """An extra condition the row does not show stays (with its remove link) unless the row now states it."""
    sign_in(make_user("view_customer", "view_customer_attribute"))
    page.goto(
        "/customers/?attribute_name=support_tier&attribute_value__startswith=Prem&attribute_value__icontains=plus"
    )
    expect(page.get_by_label("Remove condition support_tier contains plus")).to_be_visible()

    page.get_by_label("Operator").select_option(label="contains")
    page.get_by_label("Value", exact=True).fill("gold")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"attribute_value__icontains=gold"))
    assert query(page)["attribute_value__icontains"] == ["gold"]
    assert listed(page) == ["Acme Fiber"]


def test_without_javascript_the_row_filters_as_equals(browser, live_server, tiers):
    client = Client()
    client.force_login(make_user("view_customer", "view_customer_attribute"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    plain = context.new_page()
    try:
        plain.goto("/customers/")
        plain.get_by_label("Attribute name").fill("support_tier")
        plain.get_by_label("Value", exact=True).fill("gold")
        plain.get_by_role("button", name="Search").click()

        expect(plain).to_have_url(re.compile(r"attribute_name=support_tier&attribute_value=gold"))
        assert listed(plain) == ["Acme Fiber"]
    finally:
        context.close()
