"""CSV export from the UI: one customer's attributes, or those of the (filtered) customer list."""

import csv
import io

import pytest
from pytest_django.asserts import assertRedirects

from tests.factories import make_attribute, make_customer, make_user

pytestmark = pytest.mark.django_db
HEADER = ["customer_id", "customer_name", "attribute_name", "attribute_value", "last_modified"]


def rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def two_customers():
    gold = make_customer(customer_name="Acme Fiber")
    make_attribute(gold, "support_tier", "gold")
    make_attribute(gold, "external_crm_id", "SF-1")
    basic = make_customer(customer_name="Blue Networks")
    make_attribute(basic, "support_tier", "basic")
    return gold, basic


def test_customer_export_streams_that_customers_attributes(client, viewer, two_customers):
    gold, _ = two_customers

    response = client.get(f"/customers/{gold.pk}/attributes/export.csv")
    table = rows(response)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="customer-{gold.pk}-attributes.csv"'
    assert table[0] == HEADER
    assert [row[:4] for row in table[1:]] == [
        [str(gold.pk), "Acme Fiber", "external_crm_id", "SF-1"],
        [str(gold.pk), "Acme Fiber", "support_tier", "gold"],
    ]


def test_customer_export_of_unknown_customer_is_404(client, viewer):
    assert client.get("/customers/999999/attributes/export.csv").status_code == 404


def test_customer_export_neutralizes_formulas(client, viewer):
    customer = make_customer(customer_name="=HYPERLINK(1)")
    make_attribute(customer, "formula", "=1+1")

    table = rows(client.get(f"/customers/{customer.pk}/attributes/export.csv"))

    assert table[1][1:4] == ["'=HYPERLINK(1)", "formula", "'=1+1"]


def test_list_export_without_filter_has_every_attribute(client, viewer, two_customers):
    response = client.get("/customers/attributes-export.csv")
    table = rows(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="attributes.csv"'
    assert table[0] == HEADER
    assert len(table) == 4


def test_list_export_has_only_the_filtered_customers_attributes(client, viewer, two_customers):
    gold, _ = two_customers
    make_attribute(make_customer(customer_name="Acme Wireless"), "support_tier", "basic")

    response = client.get(
        "/customers/attributes-export.csv", {"attribute_name": "support_tier", "attribute_value": "gold"}
    )
    table = rows(response)

    assert table[0] == HEADER
    assert [(row[0], row[2]) for row in table[1:]] == [
        (str(gold.pk), "external_crm_id"),
        (str(gold.pk), "support_tier"),
    ]


def test_list_export_honours_search_and_status(client, viewer, two_customers):
    _, basic = two_customers
    basic.customer_status = "Closed"
    basic.save()

    by_search = rows(client.get("/customers/attributes-export.csv", {"q": "acme"}))
    by_status = rows(client.get("/customers/attributes-export.csv", {"status": "Closed"}))

    assert {row[1] for row in by_search[1:]} == {"Acme Fiber"}
    assert {row[1] for row in by_status[1:]} == {"Blue Networks"}


def test_list_export_link_from_the_list_downloads_the_same_customers(client, viewer, two_customers):
    page = client.get("/customers/", {"attribute_name": "support_tier", "attribute_value__startswith": "ba"})
    link = page.content.decode().split('href="/customers/attributes-export.csv?', 1)[1].split('"', 1)[0]

    table = rows(client.get("/customers/attributes-export.csv?" + link.replace("&amp;", "&")))

    assert {row[1] for row in table[1:]} == {"Blue Networks"}


def test_list_export_with_invalid_filter_is_400_naming_the_problem(client, viewer):
    response = client.get(
        "/customers/attributes-export.csv", {"attribute_name": "support_tier", "attribute_value__regex": "x"}
    )

    assert response.status_code == 400
    assert "Unknown operator “regex”" in response.content.decode()


@pytest.mark.parametrize("url", ["/customers/attributes-export.csv", "/customers/{pk}/attributes/export.csv"])
def test_export_requires_view_permission(client, two_customers, url):
    client.force_login(make_user("view_customer", "create_customer_attribute", "update_customer_attribute"))

    assert client.get(url.format(pk=two_customers[0].pk)).status_code == 403


@pytest.mark.parametrize("url", ["/customers/attributes-export.csv", "/customers/{pk}/attributes/export.csv"])
def test_export_redirects_anonymous_users_to_login(client, two_customers, url):
    url = url.format(pk=two_customers[0].pk)

    assertRedirects(client.get(url), f"/accounts/login/?next={url}", fetch_redirect_response=False)


def test_attributes_tab_shows_export_button_with_view_permission(client, viewer, two_customers):
    gold, _ = two_customers

    html = client.get(f"/customers/{gold.pk}/attributes/").content.decode()

    assert f'href="/customers/{gold.pk}/attributes/export.csv"' in html
    assert "Export CSV" in html


def test_attributes_tab_and_its_export_button_need_view_permission(client, two_customers):
    client.force_login(make_user("view_customer", "create_customer_attribute"))

    response = client.get(f"/customers/{two_customers[0].pk}/attributes/")

    assert response.status_code == 403
    assert b"export.csv" not in response.content


@pytest.fixture
def many_rows(db):
    """About 200 KB of CSV: enough for several 64 KB blocks."""
    from attributes.models import Attribute

    customers = [make_customer(customer_name=f"Stream {i}") for i in range(40)]
    Attribute.objects.bulk_create(
        Attribute(customer=c, attribute_name=f"name_{n:03d}", attribute_value="v" * 100)
        for c in customers
        for n in range(40)
    )
    return customers


@pytest.mark.django_db(transaction=True)
def test_full_export_sends_the_header_at_once_then_rows_in_blocks(client, many_rows):
    client.force_login(make_user("view_customer", "view_customer_attribute", username="streamer"))

    response = client.get("/customers/attributes-export.csv")
    chunks = list(response.streaming_content)

    assert chunks[0].decode().startswith('"customer_id"') and chunks[0].count(b"\n") == 1
    assert 3 <= len(chunks) <= 10  # ~64 KB blocks: not one write per row (1,600 rows), not one for everything
    table = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert len(table) == 1 + 40 * 40


@pytest.mark.django_db(transaction=True)
def test_export_on_postgresql_reads_through_a_cursor_that_is_not_materialised(client, many_rows):
    """Outside a transaction Django declares its cursor WITH HOLD, which PostgreSQL fills with the whole result
    before the first row: the full export at 10M rows would stall, and hit the statement timeout."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("server-side cursors are PostgreSQL's")
    client.force_login(make_user("view_customer", "view_customer_attribute", username="streamer"))

    stream = iter(client.get("/customers/attributes-export.csv").streaming_content)
    next(stream), next(stream)  # the header, then the first block of rows: the cursor is open now
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        holdable = [row[0] for row in cursor.fetchall()]
    rest = b"".join(stream)

    assert holdable == [False]
    assert rest.count(b"\n") > 0
