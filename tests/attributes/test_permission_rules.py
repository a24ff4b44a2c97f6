"""attributes/permissions.py: each rule once, and the `can.*` vocabulary templates ask."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from attributes import permissions
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

VIEW, CREATE, UPDATE, DELETE = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
REGISTRY = "manage_attribute_registry"


@pytest.mark.parametrize(
    ("perms", "expected"),
    [
        ((UPDATE, DELETE, REGISTRY), True),
        ((UPDATE, DELETE), False),
        ((UPDATE, REGISTRY), False),
        ((DELETE, REGISTRY), False),
    ],
)
def test_may_rename_all_needs_update_delete_and_the_registry(perms, expected):
    assert permissions.may_rename_all(make_user(*perms)) is expected


def test_require_rename_all_names_the_registry_permission_first():
    with pytest.raises(PermissionDenied, match="manage_attribute_registry permission to rename names"):
        permissions.require_rename_all(make_user())


@pytest.mark.parametrize(
    ("perms", "exists", "expected"),
    [
        ((CREATE,), False, True),
        ((CREATE,), True, False),
        ((CREATE, UPDATE), True, True),
        ((UPDATE,), True, False),
    ],
)
def test_may_restore_is_the_rule_of_a_write_by_name(perms, exists, expected):
    user = make_user(*perms)

    assert permissions.may_restore(user, exists=exists) is expected
    assert permissions.may_upsert(user, exists=exists) is expected


def test_inactive_users_may_do_nothing():
    user = make_user(VIEW, CREATE, UPDATE, DELETE, REGISTRY, "view_customer", is_active=False)

    assert not any(permissions.Can(user).values())


def test_can_answers_every_rule_for_anonymous_users_too():
    can = permissions.Can(AnonymousUser())

    assert dict(can) == {
        "view": False,
        "create": False,
        "update": False,
        "delete": False,
        "manage_registry": False,
        "rename_all": False,
        "see_customers": False,
        "manage_webhooks": False,
        "view_sensitive": False,
    }


def nav(client, url: str) -> str:
    html = client.get(url).content.decode()
    return html.split("</nav>", 1)[0]


@pytest.mark.parametrize("where", ["customers", "tab"])
def test_top_navigation_shows_registry_and_usage_by_permission(client, where):
    customer = make_customer()
    url = reverse("customers:list") if where == "customers" else reverse("attributes:tab", args=[customer.pk])

    client.force_login(make_user("view_customer", VIEW))
    html = nav(client, url)
    assert ">Usage</a>" in html
    assert ">Registry</a>" not in html

    client.force_login(make_user("view_customer", VIEW, REGISTRY))
    html = nav(client, url)
    assert ">Usage</a>" in html
    assert ">Registry</a>" in html

    client.force_login(make_user("view_customer"))
    if where == "customers":  # the tab itself is a 403 without view_customer_attribute
        html = nav(client, url)
        assert ">Usage</a>" not in html
        assert ">Registry</a>" not in html
