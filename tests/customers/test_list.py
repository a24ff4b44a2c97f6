"""The customer list: search by name or id, status filter, pagination that keeps the filter."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_customer

PAGE_SIZE = 25


def names(response) -> list[str]:
    return [customer.customer_name for customer in response.context["customer_list"]]


@pytest.fixture
def viewer(login, db):
    return login("view_customer")


def test_list_requires_view_permission(client, login, customer):
    login("add_customer")

    assert client.get("/customers/").status_code == 403


def test_list_shows_customers_sorted_by_name(client, viewer):
    make_customer(customer_name="Zenith Telecom")
    make_customer(customer_name="Acme Fiber Ltd")

    response = client.get("/customers/")

    assert response.status_code == 200
    assert names(response) == ["Acme Fiber Ltd", "Zenith Telecom"]
    assert "2 customers" in response.content.decode()


def test_list_hides_new_customer_button_without_add_permission(client, viewer):
    assert 'href="/customers/new/"' not in client.get("/customers/").content.decode()


def test_list_shows_new_customer_button_with_add_permission(client, login, db):
    login("view_customer", "add_customer")

    assert 'href="/customers/new/"' in client.get("/customers/").content.decode()


def test_search_matches_part_of_name_ignoring_case(client, viewer):
    make_customer(customer_name="Acme Fiber Ltd")
    make_customer(customer_name="Blue Fiber Co-op")
    make_customer(customer_name="Metro Wireless")

    response = client.get("/customers/", {"q": "fIBer"})

    assert names(response) == ["Acme Fiber Ltd", "Blue Fiber Co-op"]


def test_search_by_id_finds_that_customer(client, viewer):
    wanted = make_customer(customer_name="Metro Wireless")
    make_customer(customer_name="Acme Fiber Ltd")

    response = client.get("/customers/", {"q": str(wanted.customer_id)})

    assert names(response) == ["Metro Wireless"]


def test_search_by_number_also_matches_names_containing_it(client, viewer):
    by_id = make_customer(customer_name="Metro Wireless")
    make_customer(customer_name=f"Route {by_id.customer_id} Networks")
    make_customer(customer_name="Acme Fiber Ltd")

    response = client.get("/customers/", {"q": str(by_id.customer_id)})

    assert sorted(names(response)) == ["Metro Wireless", f"Route {by_id.customer_id} Networks"]


def test_search_ignores_surrounding_spaces(client, viewer):
    make_customer(customer_name="Acme Fiber Ltd")
    make_customer(customer_name="Metro Wireless")

    assert names(client.get("/customers/", {"q": "  acme "})) == ["Acme Fiber Ltd"]


def test_search_with_a_huge_number_finds_nothing_instead_of_failing(client, viewer):
    make_customer(customer_name="Acme Fiber Ltd")

    response = client.get("/customers/", {"q": "99999999999999999999999"})

    assert response.status_code == 200
    assert names(response) == []
    assert "No customers match." in response.content.decode()


def test_status_filter_shows_only_that_status(client, viewer):
    make_customer(customer_name="Open Co", customer_status="Open")
    make_customer(customer_name="Suspended Co", customer_status="Suspended")
    make_customer(customer_name="Closed Co", customer_status="Closed")

    response = client.get("/customers/", {"status": "Suspended"})

    assert names(response) == ["Suspended Co"]
    assert '<option value="Suspended" selected>' in response.content.decode()


def test_search_and_status_filter_combine(client, viewer):
    make_customer(customer_name="Acme Fiber Ltd", customer_status="Open")
    make_customer(customer_name="Acme Cable Inc", customer_status="Closed")
    make_customer(customer_name="Metro Wireless", customer_status="Closed")

    response = client.get("/customers/", {"q": "acme", "status": "Closed"})

    assert names(response) == ["Acme Cable Inc"]
    assert 'value="acme"' in response.content.decode()


def test_pagination_second_page_holds_the_rest(client, viewer):
    for n in range(30):
        make_customer(customer_name=f"Customer {n:02d}")

    first = client.get("/customers/")
    second = client.get("/customers/", {"page": 2})

    assert names(first) == [f"Customer {n:02d}" for n in range(PAGE_SIZE)]
    assert names(second) == [f"Customer {n:02d}" for n in range(PAGE_SIZE, 30)]
    assert "Page 2 of 2" in second.content.decode()
    assert "30 customers" in second.content.decode()


def test_page_beyond_the_last_is_404(client, viewer):
    make_customer()

    assert client.get("/customers/", {"page": 3}).status_code == 404


def test_pagination_links_keep_search_and_status(client, viewer):
    for n in range(30):
        make_customer(customer_name=f"Fiber {n:02d}", customer_status="Open")
    make_customer(customer_name="Fiber closed", customer_status="Closed")

    first = client.get("/customers/", {"q": "fiber", "status": "Open"})
    next_link = re.search(r'href="\?([^"]+)" rel="next"', first.content.decode()).group(1)
    second = client.get(f"/customers/?{next_link.replace('&amp;', '&')}")
    previous_link = re.search(r'href="\?([^"]+)" rel="prev"', second.content.decode()).group(1)

    assert next_link == "q=fiber&amp;status=Open&amp;page=2"
    assert previous_link == "q=fiber&amp;status=Open&amp;page=1"
    assert names(second) == [f"Fiber {n:02d}" for n in range(PAGE_SIZE, 30)]


def test_list_costs_the_same_queries_for_many_customers_as_for_few(client, viewer):
    make_customer()
    with CaptureQueriesContext(connection) as few:
        client.get("/customers/")
    for _ in range(40):
        make_customer()

    with CaptureQueriesContext(connection) as many:
        response = client.get("/customers/")

    assert len(names(response)) == PAGE_SIZE
    assert len(many) == len(few)


def test_list_links_each_customer_to_its_page(client, viewer):
    customer = make_customer(customer_name="Acme Fiber Ltd")

    html = client.get("/customers/").content.decode()

    assert f'<a href="/customers/{customer.customer_id}/">Acme Fiber Ltd</a>' in html


def test_unknown_status_is_ignored_but_search_still_applies(client, viewer):
    make_customer(customer_name="Acme Fiber Ltd")
    make_customer(customer_name="Metro Wireless")

    response = client.get("/customers/", {"q": "acme", "status": "Pending"})

    assert response.status_code == 200
    assert names(response) == ["Acme Fiber Ltd"]
