"""Customers in Django admin: listed, searchable by id, name, email or phone, filterable by status."""

from tests.factories import make_customer


def listed(response) -> list[str]:
    return [customer.customer_name for customer in response.context["cl"].result_list]


def test_changelist_requires_staff(client, login, customer):
    login("view_customer")

    response = client.get("/admin/customers/customer/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_changelist_search_matches_name(admin_client_, db):
    make_customer(customer_name="Acme Fiber Ltd")
    make_customer(customer_name="Metro Wireless")

    response = admin_client_.get("/admin/customers/customer/", {"q": "acme"})

    assert response.status_code == 200
    assert listed(response) == ["Acme Fiber Ltd"]


def test_changelist_search_matches_id_and_email(admin_client_, db):
    wanted = make_customer(customer_name="Metro Wireless", email="noc@metro.example")
    make_customer(customer_name="Acme Fiber Ltd")

    assert listed(admin_client_.get("/admin/customers/customer/", {"q": str(wanted.customer_id)})) == ["Metro Wireless"]
    assert listed(admin_client_.get("/admin/customers/customer/", {"q": "noc@metro"})) == ["Metro Wireless"]


def test_changelist_filters_by_status(admin_client_, db):
    make_customer(customer_name="Open Co", customer_status="Open")
    make_customer(customer_name="Closed Co", customer_status="Closed")

    response = admin_client_.get("/admin/customers/customer/", {"customer_status__exact": "Closed"})

    assert listed(response) == ["Closed Co"]


def test_admin_change_page_renders(admin_client_, customer):
    response = admin_client_.get(f"/admin/customers/customer/{customer.customer_id}/change/")

    assert response.status_code == 200
    assert "Acme Fiber Ltd" in response.content.decode()
