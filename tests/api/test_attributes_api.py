"""The documented attribute endpoints, over real HTTP semantics with real bearer tokens and a real database."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.test import APIClient

from attributes.models import Attribute
from tests.api.conftest import ALL_ATTRIBUTE_PERMS, ALL_CUSTOMER_PERMS
from tests.factories import bearer_client, make_attribute, make_customer, make_user
from tokens.models import ApiToken

ATTRIBUTE_KEYS = {"attribute_id", "customer_id", "attribute_name", "attribute_value", "created", "last_modified"}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
HUGE_IDS = ["99999999999999999999", str(2**63), "9223372036854775807", "0"]


@dataclass(frozen=True)
class World:
    customer: object
    attribute: Attribute


@pytest.fixture
def world(db):
    customer = make_customer(customer_name="Acme Fiber Ltd")
    return World(customer=customer, attribute=make_attribute(customer, "external_crm_id", "SF-12345"))


@pytest.fixture
def full(api):
    """A client holding every attribute and customer permission."""
    return api(*ALL_ATTRIBUTE_PERMS, *ALL_CUSTOMER_PERMS)


# --- every row of the table in the issue -----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    permission: str
    success: int

    def path(self, world: World) -> str:
        if self.method == "put":
            return "/crm/attribute/"
        if self.name == "list_for_customer":
            return f"/crm/attribute/customer_id/{world.customer.pk}"
        return f"/crm/attribute/attribute_id/{world.attribute.pk}"

    def body(self, world: World) -> dict | None:
        if self.name == "put_create":
            return {
                "customer_id": world.customer.pk,
                "attribute_name": "billing_method",
                "attribute_value": "quarterly",
            }
        if self.name == "patch":
            return {"attribute_value": "SF-54321"}
        return None

    def send(self, client: APIClient, world: World):
        body = self.body(world)
        if body is None:
            return getattr(client, self.method)(self.path(world))
        return getattr(client, self.method)(self.path(world), body, format="json")


ROWS = [
    Row("put_create", "put", "create_customer_attribute", 201),
    Row("patch", "patch", "update_customer_attribute", 200),
    Row("retrieve", "get", "view_customer_attribute", 200),
    Row("list_for_customer", "get", "view_customer_attribute", 200),
    Row("delete", "delete", "delete_customer_attribute", 200),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_endpoint_succeeds_with_only_its_permission(row, world, api):
    response = row.send(api(row.permission), world)

    assert response.status_code == row.success, response.content


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_endpoint_is_forbidden_without_its_permission(row, world, api, attribute_rows):
    others = [perm for perm in ALL_ATTRIBUTE_PERMS if perm != row.permission]
    before = attribute_rows()

    response = row.send(api(*others, *ALL_CUSTOMER_PERMS), world)

    assert response.status_code == 403
    assert row.permission in response.json()["detail"]
    assert attribute_rows() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_endpoint_without_credentials_is_401_with_www_authenticate(row, world, anon, attribute_rows):
    before = attribute_rows()

    response = row.send(anon, world)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert attribute_rows() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
@pytest.mark.parametrize(
    "header", ["Bearer crm_not-a-real-token", "Bearer", "Bearer two parts", "Bearer caf\u00e9"], ids=str
)
def test_endpoint_with_bad_token_is_401(row, header, world, attribute_rows):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    before = attribute_rows()

    response = row.send(client, world)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert attribute_rows() == before


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_endpoint_with_expired_token_is_401(row, world, attribute_rows):
    client = bearer_client(make_user(*ALL_ATTRIBUTE_PERMS))
    ApiToken.objects.filter(user=client.user).update(expires="2020-01-01T00:00:00Z")
    before = attribute_rows()

    response = row.send(client, world)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert attribute_rows() == before


# --- PUT: create or update by name -------------------------------------------------------------------


def test_put_creates_attribute_with_201(world, api):
    client = api("create_customer_attribute")

    response = client.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"},
        format="json",
    )

    assert response.status_code == 201
    created = Attribute.objects.get(customer=world.customer, attribute_name="support_tier")
    assert response.json()["attribute_id"] == created.pk
    assert response.json()["customer_id"] == world.customer.pk
    assert created.attribute_value == "premium"


def test_put_existing_name_updates_with_200_and_keeps_attribute_id(world, api):
    client = api("create_customer_attribute", "update_customer_attribute")
    original = world.attribute

    response = client.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-54321"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["attribute_id"] == original.pk
    assert response.json()["attribute_value"] == "SF-54321"
    assert Attribute.objects.filter(customer=world.customer).count() == 1
    original.refresh_from_db()
    assert original.attribute_value == "SF-54321"


def test_put_same_value_again_answers_200_and_keeps_the_row(world, api, attribute_rows):
    client = api("create_customer_attribute", "update_customer_attribute")
    before = attribute_rows()

    response = client.put(
        "/crm/attribute",
        {"customer_id": world.customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["attribute_id"] == world.attribute.pk
    assert attribute_rows() == before


def test_put_trims_name_and_value_so_padded_name_updates_existing(world, api):
    client = api("create_customer_attribute", "update_customer_attribute")

    response = client.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": " external_crm_id ", "attribute_value": " SF-1 "},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["attribute_id"] == world.attribute.pk
    assert response.json()["attribute_value"] == "SF-1"


def test_put_existing_name_with_only_create_permission_is_forbidden_and_changes_nothing(world, api, attribute_rows):
    client = api("create_customer_attribute")
    before = attribute_rows()

    response = client.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-54321"},
        format="json",
    )

    assert response.status_code == 403
    assert "update_customer_attribute" in response.json()["detail"]
    assert attribute_rows() == before


def test_put_with_only_update_permission_is_forbidden(world, api, attribute_rows):
    before = attribute_rows()

    response = api("update_customer_attribute").put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-54321"},
        format="json",
    )

    assert response.status_code == 403
    assert attribute_rows() == before


def test_put_same_name_on_two_customers_makes_two_attributes(world, api):
    other = make_customer()
    client = api("create_customer_attribute")

    response = client.put(
        "/crm/attribute/",
        {"customer_id": other.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-777"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["attribute_id"] != world.attribute.pk
    world.attribute.refresh_from_db()
    assert world.attribute.attribute_value == "SF-12345"


def test_put_echoing_read_only_fields_ignores_them(world, api):
    client = api("create_customer_attribute", "update_customer_attribute")
    body = {
        "attribute_id": 999_999,
        "customer_id": world.customer.pk,
        "attribute_name": "external_crm_id",
        "attribute_value": "SF-2",
        "created": "1999-01-01 00:00:00",
        "last_modified": "1999-01-01 00:00:00",
    }

    response = client.put("/crm/attribute/", body, format="json")

    assert response.status_code == 200
    assert response.json()["attribute_id"] == world.attribute.pk
    assert not response.json()["created"].startswith("1999")


def test_put_value_of_exactly_150_characters_is_accepted(world, api):
    response = api("create_customer_attribute").put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "long_value", "attribute_value": "v" * 150},
        format="json",
    )

    assert response.status_code == 201
    assert len(Attribute.objects.get(attribute_name="long_value").attribute_value) == 150


# --- PATCH: value and rename -------------------------------------------------------------------------


def test_patch_changes_value(world, api):
    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}", {"attribute_value": "SF-54321"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["attribute_value"] == "SF-54321"
    world.attribute.refresh_from_db()
    assert world.attribute.attribute_value == "SF-54321"
    assert world.attribute.last_modified >= world.attribute.created


def test_patch_renames_attribute_keeping_its_id_and_value(world, api):
    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}", {"attribute_name": "salesforce_id"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["attribute_id"] == world.attribute.pk
    world.attribute.refresh_from_db()
    assert (world.attribute.attribute_name, world.attribute.attribute_value) == ("salesforce_id", "SF-12345")


def test_patch_rename_and_value_together(world, api):
    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"attribute_name": "salesforce_id", "attribute_value": "SF-9"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["attribute_name"], response.json()["attribute_value"]) == ("salesforce_id", "SF-9")


def test_patch_rename_onto_existing_name_is_400_and_changes_nothing(world, api, attribute_rows):
    make_attribute(world.customer, "billing_method", "quarterly")
    before = attribute_rows()

    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"attribute_name": "billing_method", "attribute_value": "changed"},
        format="json",
    )

    assert response.status_code == 400
    assert "billing_method" in response.json()["attribute_name"][0]
    assert attribute_rows() == before


def test_patch_rename_to_name_used_by_another_customer_is_allowed(world, api):
    make_attribute(make_customer(), "billing_method", "quarterly")

    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}", {"attribute_name": "billing_method"}, format="json"
    )

    assert response.status_code == 200


def test_patch_with_matching_customer_id_is_accepted(world, api):
    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"customer_id": world.customer.pk, "attribute_value": "SF-2"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["customer_id"] == world.customer.pk


def test_patch_with_other_customers_id_is_400_and_changes_nothing(world, api, attribute_rows):
    other = make_customer()
    before = attribute_rows()

    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"customer_id": other.pk, "attribute_value": "SF-2"},
        format="json",
    )

    assert response.status_code == 400
    assert "customer_id" in response.json()
    assert attribute_rows() == before


def test_patch_cannot_move_attribute_to_unknown_customer(world, api, attribute_rows):
    before = attribute_rows()

    response = api("update_customer_attribute").patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"customer_id": 987654, "attribute_value": "SF-2"},
        format="json",
    )

    assert response.status_code == 400
    assert attribute_rows() == before


# --- GET ---------------------------------------------------------------------------------------------


def test_get_by_id_returns_the_attribute(world, api):
    response = api("view_customer_attribute").get(f"/crm/attribute/attribute_id/{world.attribute.pk}")

    assert response.status_code == 200
    assert response.json()["attribute_id"] == world.attribute.pk
    assert response.json()["attribute_name"] == "external_crm_id"
    assert response.json()["attribute_value"] == "SF-12345"
    assert response.json()["customer_id"] == world.customer.pk


def test_list_for_customer_is_a_plain_list_sorted_by_name(world, api):
    make_attribute(world.customer, "support_tier", "premium")
    make_attribute(world.customer, "billing_method", "quarterly")
    make_attribute(make_customer(), "aaa_other_customer", "x")

    response = api("view_customer_attribute").get(f"/crm/attribute/customer_id/{world.customer.pk}")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [a["attribute_name"] for a in body] == ["billing_method", "external_crm_id", "support_tier"]
    assert {a["customer_id"] for a in body} == {world.customer.pk}


def test_list_for_customer_is_the_same_through_a_session_as_through_a_token(world, api):
    """A bearer token's list is read in the token's statement (token_companion); a session's by its own query."""
    make_attribute(world.customer, "billing_method", "quarterly")
    make_attribute(world.customer, "zeta", 'ünïcode "quoted" \\ 😀')
    user = make_user("view_customer_attribute")
    session = APIClient()
    session.force_login(user)
    path = f"/crm/attribute/customer_id/{world.customer.pk}"

    through_session = session.get(path)
    through_token = bearer_client(user).get(path)

    assert through_session.status_code == through_token.status_code == 200
    assert through_session.json() == through_token.json()
    assert [a["attribute_name"] for a in through_token.json()] == ["billing_method", "external_crm_id", "zeta"]
    assert through_token.json()[2]["attribute_value"] == 'ünïcode "quoted" \\ 😀'


def test_list_for_customer_without_attributes_is_empty_list(db, api):
    customer = make_customer()

    response = api("view_customer_attribute").get(f"/crm/attribute/customer_id/{customer.pk}")

    assert response.status_code == 200
    assert response.json() == []


def test_list_for_unknown_customer_is_404(db, api):
    response = api("view_customer_attribute").get("/crm/attribute/customer_id/987654")

    assert response.status_code == 404


@pytest.mark.parametrize("customer_id", HUGE_IDS)
def test_list_for_out_of_range_customer_id_is_404(customer_id, db, api):
    response = api("view_customer_attribute").get(f"/crm/attribute/customer_id/{customer_id}")

    assert response.status_code == 404


def test_list_for_customer_costs_the_same_queries_for_2_or_40_attributes(world, api):
    client = api("view_customer_attribute")
    path = f"/crm/attribute/customer_id/{world.customer.pk}"
    make_attribute(world.customer, "second", "2")
    client.get(path)  # the token's first use records last_used; measure steady-state requests

    with CaptureQueriesContext(connection) as few:
        assert len(client.get(path).json()) == 2
    for n in range(38):
        make_attribute(world.customer, f"name_{n}", str(n))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(path).json()) == 40

    assert len(many) == len(few)


# --- DELETE ------------------------------------------------------------------------------------------


def test_delete_answers_success_and_removes_the_row(world, api):
    keep = make_attribute(world.customer, "billing_method", "quarterly")

    response = api("delete_customer_attribute").delete(f"/crm/attribute/attribute_id/{world.attribute.pk}")

    assert response.status_code == 200
    assert response.json() == {"result": "success"}
    assert not Attribute.objects.filter(pk=world.attribute.pk).exists()
    assert Attribute.objects.filter(pk=keep.pk).exists()


def test_delete_twice_is_404_the_second_time(world, api):
    client = api("delete_customer_attribute")
    path = f"/crm/attribute/attribute_id/{world.attribute.pk}"

    assert client.delete(path).status_code == 200
    assert client.delete(path).status_code == 404


# --- 404 and 405 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_attribute_is_404(method, world, full, attribute_rows):
    before = attribute_rows()

    response = getattr(full, method)("/crm/attribute/attribute_id/987654", {"attribute_value": "x"}, format="json")

    assert response.status_code == 404
    assert attribute_rows() == before


@pytest.mark.parametrize("attribute_id", HUGE_IDS)
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_out_of_range_attribute_id_is_404_not_500(method, attribute_id, world, full, attribute_rows):
    before = attribute_rows()

    response = getattr(full, method)(
        f"/crm/attribute/attribute_id/{attribute_id}", {"attribute_value": "x"}, format="json"
    )

    assert response.status_code == 404
    assert attribute_rows() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/crm/attribute/"),
        ("patch", "/crm/attribute/"),
        ("delete", "/crm/attribute/"),
        ("put", "/crm/attribute/attribute_id/{attribute_id}"),
        ("post", "/crm/attribute/attribute_id/{attribute_id}"),
        ("put", "/crm/attribute/customer_id/{customer_id}"),
        ("post", "/crm/attribute/customer_id/{customer_id}"),
        ("delete", "/crm/attribute/customer_id/{customer_id}"),
    ],
)
@pytest.mark.parametrize("client_name", ["full", "view_only"])
def test_other_methods_are_405(method, path, client_name, world, api, attribute_rows):
    perms = (*ALL_ATTRIBUTE_PERMS, *ALL_CUSTOMER_PERMS) if client_name == "full" else ("view_customer_attribute",)
    client = api(*perms)
    before = attribute_rows()
    url = path.format(attribute_id=world.attribute.pk, customer_id=world.customer.pk)

    response = getattr(client, method)(
        url,
        {"customer_id": world.customer.pk, "attribute_name": "external_crm_id", "attribute_value": "x"},
        format="json",
    )

    assert response.status_code == 405
    assert attribute_rows() == before


# --- exact shapes and timestamps ---------------------------------------------------------------------


def _all_shapes(client, world) -> list[dict]:
    put = client.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"},
        format="json",
    ).json()
    patch = client.patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}", {"attribute_value": "SF-2"}, format="json"
    ).json()
    get = client.get(f"/crm/attribute/attribute_id/{world.attribute.pk}").json()
    listed = client.get(f"/crm/attribute/customer_id/{world.customer.pk}").json()
    return [put, patch, get, *listed]


def test_every_attribute_response_has_exactly_the_specified_keys(world, full):
    shapes = _all_shapes(full, world)

    assert len(shapes) == 5
    for shape in shapes:
        assert set(shape) == ATTRIBUTE_KEYS
        assert isinstance(shape["attribute_id"], int)
        assert isinstance(shape["customer_id"], int)
        assert isinstance(shape["attribute_name"], str)
        assert isinstance(shape["attribute_value"], str)
        assert TIMESTAMP_RE.match(shape["created"]), shape["created"]
        assert TIMESTAMP_RE.match(shape["last_modified"]), shape["last_modified"]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("endpoint", ["detail", "customer list"])
def test_timestamps_are_in_the_configured_time_zone(zone, endpoint, world, full):
    """Both the serializer (detail) and the list's SQL formatting (the database formats the customer's list)."""
    Attribute.objects.filter(pk=world.attribute.pk).update(
        created=datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=UTC)  # a DST change in Berlin, and a truncation
    )
    with override_settings(TIME_ZONE=zone):
        if endpoint == "detail":
            body = full.get(f"/crm/attribute/attribute_id/{world.attribute.pk}").json()
        else:
            listed = full.get(f"/crm/attribute/customer_id/{world.customer.pk}").json()
            (body,) = [item for item in listed if item["attribute_id"] == world.attribute.pk]

    world.attribute.refresh_from_db()
    local = ZoneInfo(zone)
    assert body["created"] == world.attribute.created.astimezone(local).strftime("%Y-%m-%d %H:%M:%S")
    assert body["last_modified"] == world.attribute.last_modified.astimezone(local).strftime("%Y-%m-%d %H:%M:%S")


def test_berlin_timestamps_differ_from_utc(world, full):
    path = f"/crm/attribute/attribute_id/{world.attribute.pk}"
    with override_settings(TIME_ZONE="Europe/Berlin"):
        berlin = full.get(path).json()["created"]
    with override_settings(TIME_ZONE="UTC"):
        utc = full.get(path).json()["created"]

    assert berlin != utc


# --- trailing slash: same status, never a redirect -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/crm/attribute/attribute_id/{attribute_id}", None),
        ("get", "/crm/attribute/customer_id/{customer_id}", None),
        ("patch", "/crm/attribute/attribute_id/{attribute_id}", {"attribute_value": "SF-2"}),
        ("post", "/crm/attribute/", {}),
        ("get", "/crm/attribute/attribute_id/987654", None),
        ("get", "/crm/attribute/customer_id/987654", None),
    ],
)
def test_paths_answer_alike_with_and_without_trailing_slash(method, path, body, world, full):
    url = path.format(attribute_id=world.attribute.pk, customer_id=world.customer.pk).rstrip("/")
    send = getattr(full, method)

    without = send(url, body, format="json") if body is not None else send(url)
    with_slash = send(url + "/", body, format="json") if body is not None else send(url + "/")

    assert without.status_code == with_slash.status_code
    assert without.status_code not in (301, 302, 307, 308)
    assert "Location" not in without
    assert "Location" not in with_slash


@pytest.mark.parametrize("url", ["/crm/attribute", "/crm/attribute/"])
def test_put_keeps_its_body_with_and_without_trailing_slash(url, world, full):
    response = full.put(
        url,
        {"customer_id": world.customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["attribute_value"] == "premium"
    assert Attribute.objects.get(customer=world.customer, attribute_name="support_tier").attribute_value == "premium"


@pytest.mark.parametrize("url", ["/crm/attribute/attribute_id/{id}", "/crm/attribute/attribute_id/{id}/"])
def test_delete_works_with_and_without_trailing_slash(url, world, full):
    response = full.delete(url.format(id=world.attribute.pk))

    assert response.status_code == 200
    assert not Attribute.objects.filter(pk=world.attribute.pk).exists()


# --- every error case: 400 naming the field, and nothing changed ------------------------------------


def _put_body(world: World, **changes) -> dict:
    body = {"customer_id": world.customer.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-99999"}
    for key, value in changes.items():
        if value is _MISSING:
            body.pop(key)
        else:
            body[key] = value
    return body


_MISSING = object()

PUT_ERRORS = [
    # (id, changes to a valid body, field named in the error, text the message must contain)
    ("value_over_150", {"attribute_value": "x" * 151}, "attribute_value", "150"),
    ("bad_name_spaces", {"attribute_name": "External System ID"}, "attribute_name", "external_system_id"),
    ("bad_name_camel", {"attribute_name": "billingMethod"}, "attribute_name", "billing_method"),
    ("bad_name_dash", {"attribute_name": "support-tier"}, "attribute_name", "support_tier"),
    ("empty_name", {"attribute_name": ""}, "attribute_name", "required"),
    ("empty_value", {"attribute_value": ""}, "attribute_value", "required"),
    ("blank_value", {"attribute_value": "   "}, "attribute_value", "required"),
    ("control_character_value", {"attribute_value": "a\x01b"}, "attribute_value", "control"),
    ("null_character_value", {"attribute_value": "a\x00b"}, "attribute_value", "null"),
    ("unknown_customer", {"customer_id": 987654}, "customer_id", "customer"),
    ("customer_id_string", {"customer_id": "12"}, "customer_id", "integer"),
    ("customer_id_float", {"customer_id": 1.5}, "customer_id", "integer"),
    ("customer_id_true", {"customer_id": True}, "customer_id", "integer"),
    ("customer_id_null", {"customer_id": None}, "customer_id", "null"),
    ("customer_id_zero", {"customer_id": 0}, "customer_id", ""),
    ("customer_id_negative", {"customer_id": -1}, "customer_id", ""),
    ("customer_id_beyond_64_bits", {"customer_id": 2**63}, "customer_id", ""),
    ("customer_id_huge", {"customer_id": 10**30}, "customer_id", ""),
    ("value_number", {"attribute_value": 123}, "attribute_value", "string"),
    ("value_null", {"attribute_value": None}, "attribute_value", "null"),
    ("value_object", {"attribute_value": {"a": 1}}, "attribute_value", "string"),
    ("name_list", {"attribute_name": []}, "attribute_name", "string"),
    ("name_number", {"attribute_name": 7}, "attribute_name", "string"),
    ("missing_value", {"attribute_value": _MISSING}, "attribute_value", "required"),
    ("missing_name", {"attribute_name": _MISSING}, "attribute_name", "required"),
    ("missing_customer", {"customer_id": _MISSING}, "customer_id", "required"),
    ("unknown_field", {"colour": "blue"}, "colour", "Unknown"),
]


@pytest.mark.parametrize(("changes", "field", "text"), [e[1:] for e in PUT_ERRORS], ids=[e[0] for e in PUT_ERRORS])
def test_put_rejects_bad_input_with_400_naming_the_field_and_changes_nothing(
    changes, field, text, world, full, attribute_rows
):
    before = attribute_rows()

    response = full.put("/crm/attribute/", _put_body(world, **changes), format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert text.lower() in " ".join(body[field]).lower()
    assert attribute_rows() == before


RAW_BODIES = [
    ("malformed_json", '{"customer_id": 1, "attribute_name": "x",', "detail"),
    ("not_json_at_all", "customer_id=1", "detail"),
    ("body_is_list", '[{"customer_id": 1, "attribute_name": "x", "attribute_value": "y"}]', "non_field_errors"),
    ("body_is_string", '"external_crm_id"', "non_field_errors"),
    ("body_is_number", "42", "non_field_errors"),
    ("empty_body", "", "customer_id"),
]


@pytest.mark.parametrize(("raw", "key"), [b[1:] for b in RAW_BODIES], ids=[b[0] for b in RAW_BODIES])
def test_put_rejects_body_that_is_not_a_json_object(raw, key, world, full, attribute_rows):
    before = attribute_rows()

    response = full.generic("PUT", "/crm/attribute/", raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert key in response.json()
    assert attribute_rows() == before


def test_put_rejects_form_encoded_body_with_415(world, full, attribute_rows):
    before = attribute_rows()

    response = full.generic(
        "PUT", "/crm/attribute/", "customer_id=1&attribute_name=x", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert attribute_rows() == before


PATCH_ERRORS = [
    ("value_over_150", {"attribute_value": "x" * 151}, "attribute_value", "150"),
    ("bad_name", {"attribute_name": "External System ID"}, "attribute_name", "external_system_id"),
    ("empty_value", {"attribute_value": ""}, "attribute_value", "required"),
    ("empty_name", {"attribute_name": ""}, "attribute_name", "required"),
    ("value_number", {"attribute_value": 123}, "attribute_value", "string"),
    ("name_list", {"attribute_name": []}, "attribute_name", "string"),
    ("customer_id_string", {"customer_id": "1", "attribute_value": "x"}, "customer_id", "integer"),
    ("customer_id_float", {"customer_id": 1.5, "attribute_value": "x"}, "customer_id", "integer"),
    ("customer_id_true", {"customer_id": True, "attribute_value": "x"}, "customer_id", "integer"),
    ("customer_id_null", {"customer_id": None, "attribute_value": "x"}, "customer_id", "null"),
    ("customer_id_beyond_64_bits", {"customer_id": 2**63, "attribute_value": "x"}, "customer_id", ""),
    ("unknown_field", {"attribute_value": "x", "value": "y"}, "value", "Unknown"),
    ("nothing_to_change", {}, "non_field_errors", "attribute_value"),
    ("only_customer_id", {"customer_id": "same"}, "non_field_errors", "attribute_value"),
]


@pytest.mark.parametrize(("changes", "field", "text"), [e[1:] for e in PATCH_ERRORS], ids=[e[0] for e in PATCH_ERRORS])
def test_patch_rejects_bad_input_with_400_naming_the_field_and_changes_nothing(
    changes, field, text, world, full, attribute_rows
):
    if changes.get("customer_id") == "same":
        changes = {"customer_id": world.customer.pk}
    before = attribute_rows()

    response = full.patch(f"/crm/attribute/attribute_id/{world.attribute.pk}", changes, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert text.lower() in " ".join(body[field]).lower()
    assert attribute_rows() == before


@pytest.mark.parametrize(("raw", "key"), [b[1:] for b in RAW_BODIES], ids=[b[0] for b in RAW_BODIES])
def test_patch_rejects_body_that_is_not_a_json_object(raw, key, world, full, attribute_rows):
    before = attribute_rows()

    response = full.generic(
        "PATCH", f"/crm/attribute/attribute_id/{world.attribute.pk}", raw, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert attribute_rows() == before
