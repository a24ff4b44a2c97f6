"""The History tab: permissions, the htmx fragment, paging, order, escaping and a constant query count."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertRedirects

from attributes import services
from attributes.selectors import HISTORY_PAGE_SIZE as PAGE_SIZE
from tests.factories import make_attribute, make_customer, make_user

from .conftest import ALL, CREATE, UPDATE, VIEW, bearer, history_rows

pytestmark = pytest.mark.django_db

HTMX_TAB = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "tab-area"}


def url(customer) -> str:
    return f"/customers/{customer.pk}/attributes/history/"


def shown_ids(html: str) -> list[int]:
    """History ids of the table's rows, in page order."""
    return [int(i) for i in re.findall(r'<tr id="history-(\d+)"', html)]


def make_changes(customer, count: int) -> None:
    """`count` history rows: one create, then value updates."""
    attribute = make_attribute(customer, "counter", "0")
    for n in range(1, count):
        services.attribute_update(attribute=attribute, value=str(n), actor=None)


def test_history_tab_shows_the_customers_changes_to_a_viewer(client, customer, attribute):
    client.force_login(make_user("view_customer", VIEW))
    make_attribute(make_customer(), "secret_other_customer", "nope")

    response = client.get(url(customer))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "attributes/history.html"
    assert "<html" in html
    assert "Attribute history" in html
    assert shown_ids(html) == [r.history_id for r in history_rows(customer_id=customer.pk)]
    assert "external_crm_id" in html and "SF-12345" in html
    assert "secret_other_customer" not in html


def test_history_tab_needs_view_permission(client, customer, attribute):
    client.force_login(make_user("view_customer", CREATE, UPDATE))

    response = client.get(url(customer))

    assert response.status_code == 403
    assert "SF-12345" not in response.content.decode()


def test_history_tab_redirects_anonymous_users_to_login(client, customer):
    assertRedirects(client.get(url(customer)), f"/accounts/login/?next={url(customer)}", fetch_redirect_response=False)


def test_history_tab_of_an_unknown_customer_is_404(client):
    client.force_login(make_user("view_customer", VIEW))

    assert client.get("/customers/999999/attributes/history/").status_code == 404


def test_history_tab_link_shows_only_with_view_permission(client, customer):
    client.force_login(make_user("view_customer"))
    without = client.get(f"/customers/{customer.pk}/").content.decode()
    client.force_login(make_user("view_customer", VIEW))
    with_view = client.get(f"/customers/{customer.pk}/").content.decode()

    assert url(customer) not in without
    assert f'href="{url(customer)}"' in with_view


def test_htmx_request_for_the_tab_area_gets_the_fragment_only(client, customer, attribute):
    client.force_login(make_user("view_customer", VIEW))

    response = client.get(url(customer), **HTMX_TAB)

    html = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "attributes/_history_tab.html"
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="tab-area">')
    assert 'aria-current="page"' in html and ">History</a>" in html
    assert "SF-12345" in html


def test_history_is_newest_first(client, customer):
    client.force_login(make_user("view_customer", VIEW))
    make_changes(customer, 5)

    html = client.get(url(customer)).content.decode()

    ids = shown_ids(html)
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 5
    first_row = html[html.index(f'id="history-{ids[0]}"') :]
    assert "<del>3</del> → 4" in first_row[: first_row.index("</tr>")]


def test_history_pages_sixty_changes_into_two_pages(client, customer):
    client.force_login(make_user("view_customer", VIEW))
    make_changes(customer, 60)
    newest_first = [r.history_id for r in reversed(history_rows(customer_id=customer.pk))]

    first = client.get(url(customer)).content.decode()
    second = client.get(url(customer), {"page": 2}).content.decode()

    assert PAGE_SIZE == 50
    assert shown_ids(first) == newest_first[:50]
    assert shown_ids(second) == newest_first[50:]
    assert "60 changes, newest first" in first
    assert "Page 1 of 2" in first and 'href="?page=2" rel="next"' in first
    assert "Page 2 of 2" in second and 'href="?page=1" rel="prev"' in second


def test_history_page_beyond_the_last_shows_the_last_page(client, customer):
    client.force_login(make_user("view_customer", VIEW))
    make_changes(customer, 3)

    response = client.get(url(customer), {"page": 99})

    assert response.status_code == 200
    assert len(shown_ids(response.content.decode())) == 3


def test_history_without_changes_says_so(client, customer):
    client.force_login(make_user("view_customer", VIEW))

    html = client.get(url(customer)).content.decode()

    assert "No attribute changes recorded yet." in html


def test_history_escapes_values_and_names_it_shows(client, customer):
    client.force_login(make_user("view_customer", *ALL))
    attribute = make_attribute(customer, "notes", "<script>alert(1)</script>")
    services.attribute_update(attribute=attribute, value="<b>bold</b>", actor=None)
    services.attribute_delete(attribute=attribute, actor=None)

    html = client.get(url(customer)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<del>&lt;script&gt;alert(1)&lt;/script&gt;</del> → &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'aria-label="Restore notes = &lt;b&gt;bold&lt;/b&gt;"' in html


def test_history_shows_who_changed_what_and_through_which_path(client, customer):
    user = make_user("view_customer", *ALL, username="carol")
    client.force_login(user)
    client.post(
        f"/customers/{customer.pk}/attributes/add/", {"attribute_name": "billing_plan", "attribute_value": "annual"}
    )
    attribute = customer.attributes.get()
    services.attribute_update(attribute=attribute, name="plan", actor=None)

    html = client.get(url(customer)).content.decode()

    assert "carol" in html and "via ui" in html
    assert "system" in html and "via system" in html
    assert "<del>billing_plan</del> → plan" in html
    assert ">rename</span>" in html


def test_history_query_count_does_not_grow_with_the_rows_shown(client, customer):
    client.force_login(make_user("view_customer", *ALL))
    small, large = customer, make_customer()
    make_changes(small, 5)
    make_changes(large, 60)
    client.get(url(small))  # warm the session and permission caches equally for both

    with CaptureQueriesContext(connection) as five:
        assert len(shown_ids(client.get(url(small)).content.decode())) == 5
    with CaptureQueriesContext(connection) as sixty:
        assert len(shown_ids(client.get(url(large)).content.decode())) == 50

    assert len(sixty) == len(five), [q["sql"] for q in sixty.captured_queries]


def test_history_names_the_api_token_and_escapes_it(client, customer):
    client.force_login(make_user("view_customer", VIEW))
    writer = bearer(make_user("view_customer", *ALL, username="integration"), "<b>sync</b>")
    writer.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "billing_plan", "attribute_value": "annual"},
        format="json",
    )

    html = client.get(url(customer)).content.decode()

    assert "integration" in html
    assert "via api (token “&lt;b&gt;sync&lt;/b&gt;”)" in html
    assert "<b>sync</b>" not in html
