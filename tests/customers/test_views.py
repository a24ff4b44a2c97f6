"""Customer pages: each one with and without its permission, and the writes they make."""

import re

import pytest

from attributes.models import Attribute
from customers.models import Customer
from tests.factories import make_attribute

VALID_FORM = {
    "customer_name": "Route 66 Broadband LLC",
    "customer_account_type": "Business",
    "customer_status": "Open",
    "email": "noc@route66.example",
    "phone": "+1 555 010 0066",
    "notes": "Fibre to the premises.",
}


# --- Detail ----------------------------------------------------------------------------------------


def test_detail_requires_view_permission(client, login, customer):
    login()

    assert client.get(f"/customers/{customer.customer_id}/").status_code == 403


def test_detail_shows_overview_fields_with_view_permission(client, login, db):
    login("view_customer")
    customer = Customer.objects.create(
        customer_name="Acme Fiber Ltd", customer_account_type="Business", email="noc@acme.example", phone="+1 555 1"
    )

    response = client.get(f"/customers/{customer.customer_id}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and "Acme Fiber Ltd" in html
    assert "noc@acme.example" in html
    assert "+1 555 1" in html
    assert "Business" in html


def test_detail_of_unknown_customer_is_404(client, login, customer):
    login("view_customer")

    assert client.get(f"/customers/{customer.customer_id + 1000}/").status_code == 404


def test_detail_with_id_beyond_64_bits_is_404_not_500(client, login, db):
    login("view_customer")

    assert client.get("/customers/99999999999999999999/").status_code == 404


def test_detail_hides_edit_and_delete_buttons_without_permission(client, login, customer):
    login("view_customer")

    html = client.get(f"/customers/{customer.customer_id}/").content.decode()

    assert f"/customers/{customer.customer_id}/edit/" not in html
    assert f"/customers/{customer.customer_id}/delete/" not in html


def test_detail_shows_edit_and_delete_buttons_with_permission(client, login, customer):
    login("view_customer", "change_customer", "delete_customer")

    html = client.get(f"/customers/{customer.customer_id}/").content.decode()

    assert f'href="/customers/{customer.customer_id}/edit/"' in html
    assert f'href="/customers/{customer.customer_id}/delete/"' in html


# --- Tabs ------------------------------------------------------------------------------------------


def test_attributes_tab_is_hidden_without_attribute_view_permission(client, login, customer):
    login("view_customer")

    html = client.get(f"/customers/{customer.customer_id}/").content.decode()

    assert ">Overview</a>" in html
    assert f"/customers/{customer.customer_id}/attributes/" not in html
    assert ">Attributes</a>" not in html


def test_attributes_tab_is_shown_with_attribute_view_permission(client, login, customer):
    login("view_customer", "view_customer_attribute")

    html = client.get(f"/customers/{customer.customer_id}/").content.decode()

    assert f'href="/customers/{customer.customer_id}/attributes/"' in html
    assert ">Attributes</a>" in html


def test_overview_tab_is_marked_current(client, login, customer):
    login("view_customer", "view_customer_attribute")

    html = client.get(f"/customers/{customer.customer_id}/").content.decode()

    overview = re.search(r'<a class="nav-link([^"]*)"[^>]*>Overview</a>', html)
    attributes = re.search(r'<a class="nav-link([^"]*)"[^>]*>Attributes</a>', html)
    assert overview.group(1) == " active"
    assert 'aria-current="page"' in overview.group(0)
    assert attributes.group(1) == ""


def test_htmx_tab_request_returns_only_the_tab_area(client, login, customer):
    login("view_customer")

    response = client.get(
        f"/customers/{customer.customer_id}/", headers={"HX-Request": "true", "HX-Target": "tab-area"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="tab-area">')
    assert "<html" not in html
    assert "Acme Fiber Ltd" in html


def test_htmx_tab_request_still_requires_view_permission(client, login, customer):
    login()

    response = client.get(
        f"/customers/{customer.customer_id}/", headers={"HX-Request": "true", "HX-Target": "tab-area"}
    )

    assert response.status_code == 403


def test_plain_request_returns_the_full_page(client, login, customer):
    login("view_customer")

    html = client.get(f"/customers/{customer.customer_id}/").content.decode()

    assert "<html" in html
    assert '<div id="tab-area">' in html


# --- Create ----------------------------------------------------------------------------------------


def test_create_form_requires_add_permission(client, login, db):
    login("view_customer")

    assert client.get("/customers/new/").status_code == 403


def test_create_post_without_add_permission_is_403_and_creates_nothing(client, login, db):
    login("view_customer")

    response = client.post("/customers/new/", VALID_FORM)

    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_create_form_renders_with_add_permission(client, login, db):
    login("add_customer")

    response = client.get("/customers/new/")

    assert response.status_code == 200
    assert 'name="customer_name"' in response.content.decode()


def test_create_saves_customer_and_redirects_to_it(client, login, db):
    login("view_customer", "add_customer")

    response = client.post("/customers/new/", VALID_FORM, follow=True)

    customer = Customer.objects.get()
    assert response.redirect_chain == [(f"/customers/{customer.customer_id}/", 302)]
    assert customer.customer_name == "Route 66 Broadband LLC"
    assert customer.customer_account_type == "Business"
    assert customer.email == "noc@route66.example"
    assert "Customer Route 66 Broadband LLC created." in response.content.decode()


def test_create_without_name_shows_error_and_saves_nothing(client, login, db):
    login("add_customer")

    response = client.post("/customers/new/", {**VALID_FORM, "customer_name": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Customer.objects.exists()


def test_create_with_unknown_status_is_rejected(client, login, db):
    login("add_customer")

    response = client.post("/customers/new/", {**VALID_FORM, "customer_status": "Deleted"})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Customer.objects.exists()


# --- Edit ------------------------------------------------------------------------------------------


def test_edit_form_requires_change_permission(client, login, customer):
    login("view_customer")

    assert client.get(f"/customers/{customer.customer_id}/edit/").status_code == 403


def test_edit_post_without_change_permission_is_403_and_changes_nothing(client, login, customer):
    login("view_customer")

    response = client.post(f"/customers/{customer.customer_id}/edit/", VALID_FORM)

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.customer_name == "Acme Fiber Ltd"


def test_edit_form_is_filled_with_current_values(client, login, customer):
    login("change_customer")

    response = client.get(f"/customers/{customer.customer_id}/edit/")

    assert response.status_code == 200
    assert 'value="Acme Fiber Ltd"' in response.content.decode()


def test_edit_changes_customer_and_redirects_to_it(client, login, customer):
    login("view_customer", "change_customer")

    response = client.post(f"/customers/{customer.customer_id}/edit/", {**VALID_FORM, "customer_status": "Suspended"})

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.customer_id}/"
    customer.refresh_from_db()
    assert customer.customer_name == "Route 66 Broadband LLC"
    assert customer.customer_status == "Suspended"


def test_edit_of_unknown_customer_is_404(client, login, db):
    login("change_customer")

    assert client.post("/customers/424242/edit/", VALID_FORM).status_code == 404


# --- Delete ----------------------------------------------------------------------------------------


def test_delete_confirmation_requires_delete_permission(client, login, customer):
    login("view_customer")

    assert client.get(f"/customers/{customer.customer_id}/delete/").status_code == 403


def test_delete_post_without_delete_permission_is_403_and_keeps_customer(client, login, customer):
    login("view_customer", "change_customer")

    response = client.post(f"/customers/{customer.customer_id}/delete/")

    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_delete_confirmation_renders_with_permission(client, login, customer):
    login("delete_customer")

    response = client.get(f"/customers/{customer.customer_id}/delete/")

    assert response.status_code == 200
    assert "Delete Acme Fiber Ltd?" in response.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_delete_removes_customer_and_its_attributes(client, login, customer):
    other = Customer.objects.create(customer_name="Other Co")
    make_attribute(customer, "external_crm_id", "SF-1")
    make_attribute(customer, "billing_method", "monthly")
    kept = make_attribute(other, "external_crm_id", "SF-2")
    login("view_customer", "delete_customer")

    response = client.post(f"/customers/{customer.customer_id}/delete/", follow=True)

    assert response.redirect_chain == [("/customers/", 302)]
    assert "Customer Acme Fiber Ltd deleted." in response.content.decode()
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert list(Attribute.objects.all()) == [kept]


@pytest.mark.parametrize("group", ["Support", "Customer admin"])
def test_role_groups_can_read_customers(client, login, customer, group):
    login(groups=(group,))

    assert client.get(f"/customers/{customer.customer_id}/").status_code == 200


def test_support_group_cannot_change_customers(client, login, customer):
    login(groups=("Support",))

    assert client.get("/customers/new/").status_code == 403
    assert client.post(f"/customers/{customer.customer_id}/edit/", VALID_FORM).status_code == 403
    assert client.post(f"/customers/{customer.customer_id}/delete/").status_code == 403


def test_customer_admin_group_can_create_edit_and_delete(client, login, customer):
    login(groups=("Customer admin",))

    assert client.post("/customers/new/", {**VALID_FORM, "customer_name": "New Co"}).status_code == 302
    assert client.post(f"/customers/{customer.customer_id}/edit/", VALID_FORM).status_code == 302
    assert client.post(f"/customers/{customer.customer_id}/delete/").status_code == 302
    assert list(Customer.objects.values_list("customer_name", flat=True)) == ["New Co"]
