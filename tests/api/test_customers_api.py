"""The customer endpoints: paged list with Link and X-Total-Count headers, create, read, change, delete."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attributes.models import Attribute
from customers.models import Customer
from tests.api.conftest import ALL_ATTRIBUTE_PERMS, ALL_CUSTOMER_PERMS
from tests.factories import make_attribute, make_customer

CUSTOMER_KEYS = {
    "customer_id",
    "customer_name",
    "customer_account_type",
    "customer_status",
    "email",
    "phone",
    "notes",
    "created",
    "last_modified",
}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
LINK_RE = re.compile(r'<([^>]+)>;\s*rel="([a-z]+)"')


def links(response) -> dict[str, str]:
    """RFC 8288 `Link` header as {rel: url}."""
    return {rel: url for url, rel in LINK_RE.findall(response.get("Link", ""))}


def customer_rows() -> list[tuple]:
    return list(Customer.objects.order_by("pk").values_list(*sorted(CUSTOMER_KEYS)))


@pytest.fixture
def acme(db):
    return make_customer(customer_name="Acme Fiber Ltd", email="ops@acme.example")


@pytest.fixture
def full(api):
    return api(*ALL_CUSTOMER_PERMS, *ALL_ATTRIBUTE_PERMS)


# --- list and paging ---------------------------------------------------------------------------------


def test_list_is_a_json_list_of_customers_with_standard_fields(acme, api):
    other = make_customer(customer_name="Zeta Networks")

    response = api("view_customer").get("/crm/customer/")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [c["customer_id"] for c in body] == [acme.pk, other.pk]
    for item in body:
        assert set(item) == CUSTOMER_KEYS
        assert TIMESTAMP_RE.match(item["created"])
        assert TIMESTAMP_RE.match(item["last_modified"])
    assert body[0]["customer_name"] == "Acme Fiber Ltd"
    assert body[0]["email"] == "ops@acme.example"
    assert response["X-Total-Count"] == "2"
    assert "next" not in links(response)


def test_list_when_there_are_no_customers_is_empty(db, api):
    response = api("view_customer").get("/crm/customer/")

    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


def test_list_pages_with_limit_offset_link_and_total_headers(db, api):
    ids = [make_customer().pk for _ in range(5)]
    client = api("view_customer")

    first = client.get("/crm/customer/?limit=2")

    assert [c["customer_id"] for c in first.json()] == ids[:2]
    assert first["X-Total-Count"] == "5"
    next_url = links(first)["next"]
    assert urlsplit(next_url).path == "/crm/customer/"
    assert parse_qs(urlsplit(next_url).query) == {"limit": ["2"], "after": [str(ids[1])]}  # keyset: cheap at any depth
    assert "prev" not in links(first)

    second = client.get("/crm/customer/?limit=2&offset=2")
    assert [c["customer_id"] for c in second.json()] == ids[2:4]
    assert "next" in links(second)
    assert "prev" in links(second)

    last = client.get("/crm/customer/?limit=2&offset=4")
    assert [c["customer_id"] for c in last.json()] == ids[4:]
    assert last["X-Total-Count"] == "5"
    assert "next" not in links(last)


def test_offset_pages_link_to_the_next_offset_and_after_pages_to_the_next_key(db, api):
    ids = [make_customer().pk for _ in range(5)]
    client = api("view_customer")

    by_offset = client.get("/crm/customer/?limit=2&offset=1")
    by_key = client.get(f"/crm/customer/?limit=2&after={ids[0]}")

    assert [c["customer_id"] for c in by_offset.json()] == ids[1:3] == [c["customer_id"] for c in by_key.json()]
    assert parse_qs(urlsplit(links(by_offset)["next"]).query) == {"limit": ["2"], "offset": ["3"]}
    assert parse_qs(urlsplit(links(by_key)["next"]).query) == {"limit": ["2"], "after": [str(ids[2])]}
    assert "prev" in links(by_offset) and "prev" not in links(by_key)  # keyset pages go forward only
    assert by_key["X-Total-Count"] == "5"  # the total of the whole list, not of what follows the key


def test_offset_up_to_100000_is_allowed_and_deeper_points_to_after(db, api):
    make_customer()
    client = api("view_customer")

    allowed = client.get("/crm/customer/?offset=100000")
    refused = client.get("/crm/customer/?offset=100001")
    both = client.get("/crm/customer/?offset=1&after=1")

    assert allowed.status_code == 200 and allowed.json() == []
    assert refused.status_code == 400 and "after" in refused.json()["offset"][0]
    assert both.status_code == 400 and both.json() == {"after": ["Give `after` or `offset`, not both."]}


def test_total_count_is_left_out_past_the_count_cap_and_next_links_still_work(db, api, monkeypatch):
    from crm_project.api import HeaderLimitOffsetPagination

    monkeypatch.setattr(HeaderLimitOffsetPagination, "COUNT_CAP", 3)  # 1,000,000 in production
    ids = [make_customer().pk for _ in range(5)]
    client = api("view_customer")

    first = client.get("/crm/customer/?limit=2")
    seen, url = [], "/crm/customer/?limit=2"
    while url:
        response = client.get(url)
        seen.extend(c["customer_id"] for c in response.json())
        url = links(response).get("next")

    assert "X-Total-Count" not in first
    assert seen == ids


def test_following_next_links_visits_every_customer_once(db, api):
    ids = [make_customer().pk for _ in range(5)]
    client = api("view_customer")
    seen, url = [], "/crm/customer/?limit=2"

    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen.extend(c["customer_id"] for c in response.json())
        url = links(response).get("next")

    assert seen == ids


def test_list_pages_hold_at_most_1000_by_default_and_limit_is_capped_at_1000(db, api):
    Customer.objects.bulk_create(Customer(customer_name=f"Bulk {n:04}") for n in range(1001))
    client = api("view_customer")

    default = client.get("/crm/customer/")
    asked_for_more = client.get("/crm/customer/?limit=5000")

    assert len(default.json()) == 1000
    assert default["X-Total-Count"] == "1001"
    assert parse_qs(urlsplit(links(default)["next"]).query)["limit"] == ["1000"]
    assert len(client.get(links(default)["next"]).json()) == 1
    assert len(asked_for_more.json()) == 1000
    assert parse_qs(urlsplit(links(asked_for_more)["next"]).query)["limit"] == ["1000"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc", "limit=0", "limit=-1", "limit=1.5", "limit=99999999999999", "offset=-1", "offset=x",
        "offset=100001", "after=x", "after=-1", "after=99999999999999999999",
    ],
)  # fmt: skip
def test_list_with_bad_limit_or_offset_is_400(query, acme, api):
    response = api("view_customer").get(f"/crm/customer/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_list_costs_the_same_queries_for_3_or_60_customers(db, api):
    client = api("view_customer")
    for _ in range(3):
        make_customer()
    client.get("/crm/customer/")  # first use of the token records last_used

    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/crm/customer/").json()) == 3
    Customer.objects.bulk_create(Customer(customer_name=f"More {n}") for n in range(57))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/crm/customer/").json()) == 60

    assert len(many) == len(few)


# --- one customer ------------------------------------------------------------------------------------


def test_get_customer_by_id(acme, api):
    response = api("view_customer").get(f"/crm/customer/customer_id/{acme.pk}")

    assert response.status_code == 200
    assert set(response.json()) == CUSTOMER_KEYS
    assert response.json()["customer_id"] == acme.pk
    assert response.json()["customer_name"] == "Acme Fiber Ltd"


@pytest.mark.parametrize("customer_id", ["987654", "0", "99999999999999999999", str(2**63)])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_or_out_of_range_customer_is_404(method, customer_id, acme, full):
    before = customer_rows()

    response = getattr(full, method)(f"/crm/customer/customer_id/{customer_id}", {"notes": "x"}, format="json")

    assert response.status_code == 404
    assert customer_rows() == before


def test_put_creates_customer_with_201(db, api):
    response = api("add_customer").put(
        "/crm/customer/",
        {"customer_name": "New Fiber Co", "customer_account_type": "Business", "email": "hi@new.example"},
        format="json",
    )

    assert response.status_code == 201
    created = Customer.objects.get(pk=response.json()["customer_id"])
    assert created.customer_name == "New Fiber Co"
    assert created.customer_account_type == "Business"
    assert set(response.json()) == CUSTOMER_KEYS


def test_put_ignores_echoed_customer_id_and_creates_a_new_customer(acme, api):
    response = api("add_customer").put(
        "/crm/customer", {"customer_id": acme.pk, "customer_name": "Copy"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["customer_id"] != acme.pk
    acme.refresh_from_db()
    assert acme.customer_name == "Acme Fiber Ltd"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "customer_name"),
        ({"customer_name": ""}, "customer_name"),
        ({"customer_name": "X" * 201}, "customer_name"),
        ({"customer_name": "X", "customer_status": "Bogus"}, "customer_status"),
        ({"customer_name": "X", "email": "not-an-email"}, "email"),
        ({"customer_name": "X", "colour": "blue"}, "colour"),
        ([{"customer_name": "X"}], "non_field_errors"),
    ],
    ids=["missing_name", "empty_name", "long_name", "bad_status", "bad_email", "unknown_field", "list_body"],
)
def test_put_with_bad_input_is_400_naming_the_field_and_creates_nothing(body, field, db, api):
    before = customer_rows()

    response = api("add_customer").put("/crm/customer/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert customer_rows() == before


def test_put_with_malformed_json_is_400(db, api):
    response = api("add_customer").generic("PUT", "/crm/customer/", "{nope", content_type="application/json")

    assert response.status_code == 400
    assert Customer.objects.count() == 0


def test_patch_changes_customer(acme, api):
    response = api("change_customer").patch(
        f"/crm/customer/customer_id/{acme.pk}", {"customer_status": "Suspended"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["customer_status"] == "Suspended"
    acme.refresh_from_db()
    assert acme.customer_status == "Suspended"
    assert acme.customer_name == "Acme Fiber Ltd"


@pytest.mark.parametrize(
    "body",
    [{"customer_status": "Bogus"}, {"customer_name": ""}, {"colour": "blue"}, ["x"]],
    ids=["bad_status", "empty_name", "unknown_field", "list_body"],
)
def test_patch_with_bad_input_is_400_and_changes_nothing(body, acme, api):
    before = customer_rows()

    response = api("change_customer").patch(f"/crm/customer/customer_id/{acme.pk}", body, format="json")

    assert response.status_code == 400
    assert customer_rows() == before


def test_delete_removes_customer_and_its_attributes(acme, api):
    make_attribute(acme, "external_crm_id", "SF-1")
    other = make_customer()
    kept = make_attribute(other, "external_crm_id", "SF-2")

    response = api("delete_customer").delete(f"/crm/customer/customer_id/{acme.pk}")

    assert response.status_code == 200
    assert response.json() == {"result": "success"}
    assert not Customer.objects.filter(pk=acme.pk).exists()
    assert not Attribute.objects.filter(customer_id=acme.pk).exists()
    assert Attribute.objects.filter(pk=kept.pk).exists()


# --- permissions: each operation with and without its permission, anonymous -------------------------

OPERATIONS = [
    # (id, method, path, body, permission, success status)
    ("list", "get", "/crm/customer/", None, "view_customer", 200),
    ("create", "put", "/crm/customer/", {"customer_name": "Created"}, "add_customer", 201),
    ("retrieve", "get", "/crm/customer/customer_id/{id}", None, "view_customer", 200),
    ("update", "patch", "/crm/customer/customer_id/{id}", {"notes": "changed"}, "change_customer", 200),
    ("delete", "delete", "/crm/customer/customer_id/{id}", None, "delete_customer", 200),
]


def _send(client, method, path, body, customer):
    url = path.format(id=customer.pk)
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize(
    ("method", "path", "body", "perm", "success"), [o[1:] for o in OPERATIONS], ids=[o[0] for o in OPERATIONS]
)
def test_customer_operation_succeeds_with_only_its_permission(method, path, body, perm, success, acme, api):
    response = _send(api(perm), method, path, body, acme)

    assert response.status_code == success, response.content


@pytest.mark.parametrize(
    ("method", "path", "body", "perm", "success"), [o[1:] for o in OPERATIONS], ids=[o[0] for o in OPERATIONS]
)
def test_customer_operation_is_forbidden_without_its_permission(method, path, body, perm, success, acme, api):
    others = [p for p in ALL_CUSTOMER_PERMS if p != perm]
    before = customer_rows()

    response = _send(api(*others, *ALL_ATTRIBUTE_PERMS), method, path, body, acme)

    assert response.status_code == 403
    assert customer_rows() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "perm", "success"), [o[1:] for o in OPERATIONS], ids=[o[0] for o in OPERATIONS]
)
def test_customer_operation_without_credentials_is_401(method, path, body, perm, success, acme, anon):
    before = customer_rows()

    response = _send(anon, method, path, body, acme)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert customer_rows() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/crm/customer/"),
        ("delete", "/crm/customer/"),
        ("patch", "/crm/customer/"),
        ("put", "/crm/customer/customer_id/{id}"),
        ("post", "/crm/customer/customer_id/{id}"),
    ],
)
@pytest.mark.parametrize("perms", [ALL_CUSTOMER_PERMS, ("view_customer",)], ids=["full", "view_only"])
def test_other_methods_on_customer_paths_are_405(method, path, perms, acme, api):
    before = customer_rows()

    response = _send(api(*perms), method, path, {"customer_name": "X"}, acme)

    assert response.status_code == 405
    assert customer_rows() == before


# --- trailing slash ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/crm/customer", None),
        ("get", "/crm/customer/customer_id/{id}", None),
        ("patch", "/crm/customer/customer_id/{id}", {"notes": "n"}),
        ("put", "/crm/customer", {"customer_name": "Slash test"}),
        ("get", "/crm/customer/customer_id/987654", None),
    ],
)
def test_customer_paths_answer_alike_with_and_without_trailing_slash(method, path, body, acme, full):
    without = _send(full, method, path, body, acme)
    with_slash = _send(full, method, path + "/", body, acme)

    assert without.status_code == with_slash.status_code
    assert without.status_code not in (301, 302, 307, 308)
    assert "Location" not in without
    assert "Location" not in with_slash
    if method == "put":
        assert Customer.objects.filter(customer_name="Slash test").count() == 2
