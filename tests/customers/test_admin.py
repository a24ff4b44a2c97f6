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


def test_admin_change_page_edits_the_first_attributes_and_links_to_the_rest(admin_client_, db, monkeypatch):
    """A customer of hundreds of attributes: the page holds the first by name and links to all of them."""
    from attributes import admin as attributes_admin
    from attributes.models import Attribute
    from tests.factories import make_attribute

    monkeypatch.setattr(attributes_admin, "INLINE_ATTRIBUTES", 3)
    customer = make_customer()
    for n in range(5):
        make_attribute(customer, f"name_{n}", f"v{n}")
    path = f"/admin/customers/customer/{customer.customer_id}/change/"

    page = admin_client_.get(path).content.decode()

    assert 'value="v0"' in page and 'value="v2"' in page and 'value="v3"' not in page
    assert "The first 3 attributes by name; 2 more are" in page
    link = f"/admin/attributes/attribute/?customer__exact={customer.pk}"
    assert link in page
    listed = admin_client_.get(link)
    assert listed.status_code == 200 and "name_4" in listed.content.decode()

    # Saving the page changes what it showed and leaves the rest alone.
    shown = list(Attribute.objects.filter(customer=customer).order_by("attribute_name")[:3])
    data = {
        "customer_name": customer.customer_name, "customer_account_type": customer.customer_account_type,
        "customer_status": customer.customer_status, "email": customer.email or "", "phone": customer.phone or "",
        "attributes-TOTAL_FORMS": "3", "attributes-INITIAL_FORMS": "3", "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, attribute in enumerate(shown):
        data |= {
            f"attributes-{i}-attribute_id": attribute.pk, f"attributes-{i}-customer": customer.pk,
            f"attributes-{i}-attribute_name": attribute.attribute_name,
            f"attributes-{i}-attribute_value": "changed" if i == 1 else attribute.attribute_value,
        }  # fmt: skip
    response = admin_client_.post(path, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    values = dict(Attribute.objects.filter(customer=customer).values_list("attribute_name", "attribute_value"))
    assert values == {"name_0": "v0", "name_1": "changed", "name_2": "v2", "name_3": "v3", "name_4": "v4"}
