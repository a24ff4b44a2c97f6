"""Every URL the project routes, visited as every kind of user: none is reachable without the permission it needs.

The URLs come from the URL configuration itself, and EXPECTED says what each one needs. A URL name missing
from EXPECTED fails the sweep, so a new endpoint cannot ship without someone deciding who may use it.

Needs: "public" (anyone), "login" (any signed-in user), or the permission codenames that must all be held.
Each URL and method is visited as: anonymous (pages redirect to sign-in, the API answers 401); a signed-in
user with no permission; each role group (Support, Customer admin, Integration); a user holding exactly the
needed permissions; and, for each needed permission, a user holding every other permission but that one.
Whoever holds the need gets a success (2xx, or a redirect that is not to sign-in); whoever does not gets 403.

Customer data (names, status) is the customers app's: a URL that shows it needs view_customer. Every URL that
needs no customer permission is visited by a user holding every other permission, and its answer must not
name a customer.
"""

import dataclasses

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import make_user
from tests.security.conftest import ALL_CODENAMES, ROLES
from tests.security.urlmap import (
    ADD_C,
    CHANGE_C,
    DELETE_C,
    EXPECTED,
    LOGIN,
    METRICS,
    PUBLIC,
    ROUTES,
    SWEPT,
    VIEW_C,
    Objects,
    RawBody,
    Route,
    make_objects,
    request_body,
    url_for,
)
from tokens.models import ApiToken


@pytest.fixture
def objects(world) -> Objects:
    return make_objects(world)


def test_every_url_name_has_an_expected_permission():
    routed = {route.name for route in ROUTES}
    missing = sorted(routed - set(EXPECTED))
    assert not missing, f"URLs without an entry in EXPECTED (decide who may use them, then add them): {missing}"
    stale = sorted(set(EXPECTED) - routed)
    assert not stale, f"EXPECTED names URLs that no longer exist: {stale}"


# --- who visits ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Visitor:
    label: str
    user: User | None  # None: anonymous
    codenames: frozenset[str]

    def holds(self, need) -> bool:
        if need == PUBLIC:
            return True
        if self.user is None:
            return False
        return need == LOGIN or set(need) <= self.codenames


def _visitors(need) -> list[Visitor]:
    visitors = [Visitor("anonymous", None, frozenset()), Visitor("no permissions", make_user(), frozenset())]
    for role in ROLES:
        group = Group.objects.get(name=role)
        codenames = frozenset(group.permissions.values_list("codename", flat=True))
        visitors.append(Visitor(f"role {role}", make_user(groups=(role,)), codenames))
    if isinstance(need, tuple):
        visitors.append(Visitor(f"only {'+'.join(need)}", make_user(*need), frozenset(need)))
        for missing in need:
            others = frozenset(ALL_CODENAMES) - {missing}
            visitors.append(Visitor(f"everything but {missing}", make_user(*others), others))
    return visitors


# --- what they send --------------------------------------------------------------------------------------------


def _send(route: Route, method: str, visitor: Visitor, objects: Objects):
    path = url_for(route, objects, visitor.user)
    body = request_body(route, method, objects)
    if route.is_api:
        client = APIClient()
        if visitor.user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(user=visitor.user, name='sweep')[1]}")
        send = getattr(client, method.lower())
        if isinstance(body, RawBody):
            return path, send(path, body.content.encode(), content_type=body.content_type)
        return path, (send(path) if body is None else send(path, body, format="json"))
    client = Client()
    if visitor.user is not None:
        client.force_login(visitor.user)
    send = getattr(client, method.lower())
    return path, (send(path) if body is None else send(path, body))


def _verdict(route: Route, method: str, need, visitor: Visitor, response) -> str | None:
    """None when the response is what this visitor should get, else what went wrong."""
    status = response.status_code
    location = response.get("Location", "")
    to_sign_in = status in (301, 302) and location.startswith(reverse("login"))
    succeeded = 200 <= status < 300 or (300 <= status < 400 and not to_sign_in)
    if need == METRICS:  # not configured in the suite: nobody's credentials reach it
        return None if status == 404 else f"expected 404 (METRICS_TOKEN and METRICS_ALLOWED_IPS unset), got {status}"
    if need is None:  # a method the URL does not take: nobody succeeds with it
        if succeeded:
            return f"answered {status} {location} to a method it should not take"
        return None
    if visitor.holds(need):
        if need == PUBLIC and 300 <= status < 400:
            return None  # e.g. the site root and sign-out redirect anyone
        return None if succeeded else f"expected success, got {status} {location}"
    if visitor.user is None:
        expected = "401" if route.is_api else "a redirect to sign-in"
        ok = status == 401 if route.is_api else to_sign_in
        return None if ok else f"expected {expected}, got {status} {location}"
    lacking = "+".join(sorted(set(need) - visitor.codenames))
    return None if status == 403 else f"expected 403 (lacks {lacking}), got {status} {location}"


@pytest.mark.parametrize(("route", "method"), SWEPT, ids=[f"{method} {route.name}" for route, method in SWEPT])
def test_url_is_reachable_only_with_the_permission_it_needs(route, method, objects):
    assert route.name in EXPECTED, f"{route.name} ({route.route}) is not in EXPECTED"
    need = EXPECTED[route.name].get(method)
    failures = []
    for visitor in _visitors(need if need is not None else PUBLIC):
        with transaction.atomic():  # every visitor meets the same objects: each visit is rolled back
            path, response = _send(route, method, visitor, objects)
            if (problem := _verdict(route, method, need, visitor, response)) is not None:
                failures.append(f"{method} {path} as {visitor.label}: {problem}")
            transaction.set_rollback(True)
    assert not failures, "\n".join(failures)


CUSTOMER_PERMISSIONS = {VIEW_C, ADD_C, CHANGE_C, DELETE_C}
WITHOUT_CUSTOMERS = [
    (route, method)
    for route, method in SWEPT
    if (need := EXPECTED.get(route.name, {}).get(method)) is not None
    and not (isinstance(need, tuple) and CUSTOMER_PERMISSIONS & set(need))
]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("route", "method"), WITHOUT_CUSTOMERS, ids=[f"{method} {route.name}" for route, method in WITHOUT_CUSTOMERS]
)
def test_url_without_customer_permission_shows_no_customer_data(route, method, objects, world):
    """Pages and endpoints that do not need view_customer name no customer, even to a user holding all else."""
    visitor = Visitor("everything but view_customer", make_user(*(set(ALL_CODENAMES) - {VIEW_C})), frozenset())
    path, response = _send(route, method, visitor, objects)
    assert response.status_code < 500, f"{method} {path}: {response.status_code}"
    body = _body(response).decode(errors="replace")
    for name in (world.customer.customer_name, world.other_customer.customer_name):
        assert name not in body, f"{method} {path} names the customer {name!r} to a user without view_customer"


ADMIN_PAGES = ["/admin/", "/admin/attributes/attribute/", "/admin/customers/customer/", "/admin/axes/accessattempt/"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_is_for_staff_only(path, world, superuser):
    """Anonymous and non-staff users (whatever their roles) are sent to the admin's sign-in; staff get in."""
    sign_in = f"/admin/login/?next={path}"
    visitors = [("anonymous", None), ("no permissions", make_user())]
    visitors += [(f"role {role}", make_user(groups=(role,))) for role in ROLES]
    visitors += [("every permission, not staff", make_user(*ALL_CODENAMES))]
    failures = []
    for label, user in visitors:
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(path)
        if response.status_code != 302 or response["Location"] != sign_in:
            failures.append(f"GET {path} as {label}: expected a redirect to {sign_in}, got {response.status_code}")
    admin = Client()
    admin.force_login(superuser)
    assert admin.get(path).status_code == 200
    assert not failures, "\n".join(failures)


def test_admin_models_need_their_model_permissions_even_for_staff(world):
    client = Client()
    client.force_login(make_user(is_staff=True))

    assert client.get("/admin/").status_code == 200  # the index, with nothing on it
    for path in ADMIN_PAGES[1:]:
        assert client.get(path).status_code == 403, path
