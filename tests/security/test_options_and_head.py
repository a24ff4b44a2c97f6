"""OPTIONS on every API route and HEAD on every GET route, generated from the URL configuration: never a 5xx.

DRF's SimpleMetadata looked an object up for OPTIONS (a KeyError on routes without an id, 500 for every
signed-in user); `require_GET` refused HEAD on /healthz/. The routes come from tests/security/urlmap.py, so a new
route is swept as soon as it exists.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import attribute_rows, customer_rows, make_user
from tests.security.conftest import ALL_CODENAMES
from tests.security.urlmap import EXPECTED, PUBLIC, ROUTES, make_objects, url_for

API_ROUTES = [route for route in ROUTES if route.route.startswith("crm/")]
GET_ROUTES = [route for route in ROUTES if route.name != "admin:*" and "GET" in EXPECTED.get(route.name, {})]
VISITORS = ("anonymous", "nobody", "viewer", "writer", "everything", "superuser")


def visitor_client(kind: str, client_class=APIClient):
    client = client_class()
    codenames = {
        "nobody": (),
        "viewer": ("view_customer", "view_customer_attribute"),  # some permissions, no write one
        "writer": ("add_customer", "create_customer_attribute", "update_customer_attribute"),  # writes, no reads
        "everything": ALL_CODENAMES,
    }
    if kind == "superuser":
        client.force_login(make_user(username="root", is_superuser=True, is_staff=True))
    elif kind != "anonymous":
        client.force_login(make_user(*codenames[kind], username=kind))
    return client


def test_the_sweeps_cover_the_api_and_the_pages():
    assert {"attribute", "attribute-bulk", "customer", "attribute-detail"} <= {r.name for r in API_ROUTES}
    assert {"healthz", "customers:list", "attributes:tab", "tokens:list"} <= {r.name for r in GET_ROUTES}


@pytest.mark.parametrize("kind", VISITORS)
@pytest.mark.parametrize("route", API_ROUTES, ids=[route.name for route in API_ROUTES])
def test_options_on_every_api_route_never_fails(route, kind, world):
    objects = make_objects(world)
    client = visitor_client(kind)
    before = attribute_rows(), customer_rows()

    response = client.options(url_for(route, objects))

    assert response.status_code < 500, f"OPTIONS {route.route} as {kind}: {response.status_code}"
    if kind in {"everything", "superuser"}:
        assert response.status_code == 200
    assert (attribute_rows(), customer_rows()) == before


@pytest.mark.parametrize(
    ("path", "method", "field"),
    [
        ("/crm/attribute/", "PUT", "attribute_value"),
        ("/crm/customer/", "PUT", "customer_name"),
        ("/crm/attribute/attribute_id/{a}", "PATCH", "attribute_value"),
    ],
)
def test_options_lists_the_fields_of_the_writes_the_user_may_make(path, method, field, world):
    path = path.format(a=world.attribute.pk)
    allowed = visitor_client("everything").options(path)
    refused = visitor_client("viewer").options(path)

    assert allowed.status_code == 200
    assert field in allowed.json()["actions"][method]
    assert method in allowed["Allow"]
    assert "actions" not in refused.json() or method not in refused.json()["actions"]


@pytest.mark.parametrize("route", GET_ROUTES, ids=[route.name for route in GET_ROUTES])
def test_head_answers_wherever_get_does(route, world):
    objects = make_objects(world)
    client = visitor_client("superuser", Client)
    path = url_for(route, objects)

    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code, f"HEAD {route.route}: {head.status_code}, GET: {get.status_code}"
    assert b"".join(head.streaming_content if head.streaming else [head.content]) == b""


def test_head_healthz_answers_200_without_sign_in(db):
    response = Client().head("/healthz/")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("path", ["/admin/", "/admin/customers/customer/", "/admin/attributes/attribute/"])
def test_head_on_admin_pages_answers_like_get(path, world):
    client = visitor_client("superuser", Client)

    assert client.head(path).status_code == client.get(path).status_code == 200


def test_public_routes_are_in_the_head_sweep():
    public = {route.name for route in GET_ROUTES if EXPECTED[route.name].get("GET") == PUBLIC}
    assert {"healthz", "login", "schema"} <= public
