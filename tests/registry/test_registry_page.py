"""The Registry page: only for users with manage_attribute_registry; list, create, edit and delete definitions."""

import html
import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from attributes.models import AttributeDefinition
from tests.factories import make_attribute, make_customer, make_user

from .conftest import ALL, MANAGE, define

pytestmark = pytest.mark.django_db

LIST_URL = "/attributes/registry/"
CREATE_URL = "/attributes/registry/new/"


def edit_url(definition) -> str:
    return f"/attributes/registry/{definition.pk}/edit/"


def delete_url(definition) -> str:
    return f"/attributes/registry/{definition.pk}/delete/"


@pytest.fixture
def manager(client):
    user = make_user("view_customer", MANAGE)
    client.force_login(user)
    return user


@pytest.fixture
def tier():
    return define(
        "support_tier",
        "choice",
        choices="gold\nsilver\nbronze",
        example="gold",
        description="Support level sold with the contract.",
        dependent_systems="billing, RADIUS",
        protected=True,
    )


def test_urls_are_named():
    assert reverse("attributes:registry") == LIST_URL
    assert reverse("attributes:registry_create") == CREATE_URL


# --- permissions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST_URL, CREATE_URL, "edit", "delete"])
def test_anonymous_users_are_sent_to_login(client, tier, url):
    url = {"edit": edit_url(tier), "delete": delete_url(tier)}.get(url, url)

    response = client.get(url)

    assertRedirects(response, f"/accounts/login/?next={url}", fetch_redirect_response=False)


@pytest.mark.parametrize("url", [LIST_URL, CREATE_URL, "edit", "delete"])
def test_get_without_manage_permission_is_403_even_with_every_attribute_permission(client, tier, url):
    client.force_login(make_user("view_customer", *ALL))
    url = {"edit": edit_url(tier), "delete": delete_url(tier)}.get(url, url)

    assert client.get(url).status_code == 403


def test_post_without_manage_permission_changes_nothing(client, tier):
    client.force_login(make_user("view_customer", *ALL))

    assert client.post(CREATE_URL, {"name": "new_name", "value_type": "text"}).status_code == 403
    assert client.post(edit_url(tier), {"value_type": "text"}).status_code == 403
    assert client.post(delete_url(tier)).status_code == 403
    assert list(AttributeDefinition.objects.values_list("name", "value_type")) == [("support_tier", "choice")]


def test_customer_admin_group_manages_the_registry(client):
    # Run the data migration's function (idempotent) so the test holds even after a transactional test's flush.
    migration = importlib.import_module("attributes.migrations.0005_registry_permission_groups")
    state = MigrationLoader(connection).project_state(("attributes", "0005_registry_permission_groups"))
    migration.add_permission(state.apps, None)

    permission = Permission.objects.get(codename=MANAGE)
    assert permission in Group.objects.get(name="Customer admin").permissions.all()
    assert not Group.objects.filter(name="Support", permissions=permission).exists()

    client.force_login(make_user(groups=("Customer admin",)))
    assert client.get(LIST_URL).status_code == 200


def test_navbar_links_the_registry_only_for_managers(client):
    client.force_login(make_user("view_customer"))
    assert 'href="/attributes/registry/"' not in client.get("/customers/").content.decode()

    client.force_login(make_user("view_customer", MANAGE))
    assert 'href="/attributes/registry/"' in client.get("/customers/").content.decode()


# --- the list -----------------------------------------------------------------------------------------------


def test_list_shows_each_definition_with_its_format_dependants_and_usage(client, manager, tier):
    define("billing_day", "integer", description="Day of the month the invoice goes out.")
    for customer in (make_customer(), make_customer(), make_customer()):
        make_attribute(customer, "support_tier", "gold")

    response = client.get(LIST_URL)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    rows = {d.name: d for d in response.context["definitions"]}
    assert rows["support_tier"].customer_count == 3
    assert rows["billing_day"].customer_count == 0
    for text in (
        "Support level sold with the contract.",
        "one of: gold, silver, bronze",
        "a whole number, e.g. 100",
        "Day of the month the invoice goes out.",
        ">billing</span>",
        ">RADIUS</span>",
        "Protected",
        "3 customers with support_tier",
    ):
        assert text in page


def test_list_costs_the_same_queries_for_3_or_30_definitions(client, manager):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST_URL).status_code == 200
        return len(queries)

    customer = make_customer()
    for i in range(3):
        define(f"name_{i}")
        make_attribute(customer, f"name_{i}", "x")
    few = count()
    for i in range(3, 30):
        define(f"name_{i}")
        make_attribute(customer, f"name_{i}", "x")

    assert count() == few


# --- create, edit, delete ----------------------------------------------------------------------------------


def test_create_definition(client, manager):
    response = client.post(
        CREATE_URL,
        {
            "name": "billing_account_id",
            "description": "Account number in the billing system.",
            "value_type": "regex",
            "pattern": r"BA-[0-9]{6}",
            "example": "BA-000123",
            "dependent_systems": "billing",
            "protected": "on",
        },
    )

    assertRedirects(response, LIST_URL, fetch_redirect_response=False)
    definition = AttributeDefinition.objects.get(name="billing_account_id")
    assert (definition.value_type, definition.pattern, definition.protected, definition.systems) == (
        "regex",
        r"BA-[0-9]{6}",
        True,
        ["billing"],
    )
    assert "Definition billing_account_id created." in client.get(LIST_URL).content.decode()


def test_create_form_prefills_a_name_passed_along(client, manager):
    response = client.get(CREATE_URL + "?name=billing_method")

    assert 'value="billing_method"' in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"value_type": "regex", "pattern": "BA-[0-9"}, "pattern", "Not a valid regular expression"),
        ({"value_type": "choice", "choices": ""}, "choices", "List at least one allowed value."),
        ({"value_type": "integer", "example": "ten"}, "example", "The example does not fit: expected a whole number"),
        ({"value_type": "text", "name": "Bad Name"}, "name", ""),
    ],
)
def test_create_refuses_an_unsound_definition_with_the_error_at_its_field(client, manager, fields, field, message):
    response = client.post(CREATE_URL, {"name": "billing_account_id", **fields})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert 'aria-invalid="true"' in response.content.decode()
    assert not AttributeDefinition.objects.exists()


def test_create_refuses_a_name_already_defined(client, manager, tier):
    response = client.post(CREATE_URL, {"name": "support_tier", "value_type": "text"})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert AttributeDefinition.objects.count() == 1


def test_edit_changes_the_definition_but_never_its_name(client, manager, tier):
    response = client.post(
        edit_url(tier),
        {
            "name": "renamed_tier",  # disabled field: ignored
            "description": "Support level.",
            "value_type": "choice",
            "choices": "gold\nsilver\nbronze\nplatinum",
            "example": "platinum",
            "dependent_systems": "billing",
        },
    )

    assertRedirects(response, LIST_URL, fetch_redirect_response=False)
    tier.refresh_from_db()
    assert tier.name == "support_tier"
    assert tier.choice_list == ["gold", "silver", "bronze", "platinum"]
    assert tier.protected is False  # an unchecked box
    assert tier.systems == ["billing"]


def test_edit_form_shows_the_current_values(client, manager, tier):
    response = client.get(edit_url(tier))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="support_tier"' in page and "disabled" in page
    assert "Support level sold with the contract." in page


def test_delete_page_warns_about_usage_and_dependants_then_deletes_only_the_definition(client, manager, tier):
    customer = make_customer()
    make_attribute(customer, "support_tier", "gold")

    page = html.unescape(client.get(delete_url(tier)).content.decode())
    assert "1 customer uses this name." in page
    assert "Used by: billing, RADIUS." in page

    response = client.post(delete_url(tier))

    assertRedirects(response, LIST_URL, fetch_redirect_response=False)
    assert not AttributeDefinition.objects.exists()
    assert customer.attributes.get().attribute_value == "gold"  # customers keep their values


def test_unknown_definition_is_404(client, manager):
    assert client.get("/attributes/registry/999999/edit/").status_code == 404
