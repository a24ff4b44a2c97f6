"""Small explicit factories for tests: real rows in the real database, nothing mocked."""

import itertools

from django.contrib.auth.models import Group, Permission, User
from rest_framework.test import APIClient

from attributes import services
from attributes.models import Attribute
from customers.models import Customer
from tokens.models import ApiToken

_counter = itertools.count(1)

ATTRIBUTE_PERMS = {
    "view": "view_customer_attribute",
    "create": "create_customer_attribute",
    "update": "update_customer_attribute",
    "delete": "delete_customer_attribute",
}


def make_customer(**fields) -> Customer:
    n = next(_counter)
    fields.setdefault("customer_name", f"Customer {n}")
    return Customer.objects.create(**fields)


def make_user(*codenames: str, username: str | None = None, groups: tuple[str, ...] = (), **fields) -> User:
    """A user with the given permission codenames (e.g. "view_customer", "create_customer_attribute")."""
    user = User.objects.create_user(username=username or f"user{next(_counter)}", password="pw-for-tests-1", **fields)
    if codenames:
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for group in groups:
        user.groups.add(Group.objects.get(name=group))
    return user


def make_attribute(customer: Customer, name: str = "external_crm_id", value: str = "SF-12345") -> Attribute:
    return services.attribute_upsert(customer=customer, name=name, value=value, actor=None).attribute


def bearer_client(user: User, name: str = "tests") -> APIClient:
    """An APIClient that sends a freshly issued token (named `name`) for `user` on every request, as integrations do."""
    _, raw = ApiToken.issue(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.user = user
    client.raw_token = raw
    return client


def attribute_rows() -> list[tuple]:
    """Every attribute row, to show that a rejected request changed nothing."""
    return list(
        Attribute.objects.order_by("pk").values_list(
            "pk", "customer_id", "attribute_name", "attribute_value", "created", "last_modified"
        )
    )


def customer_rows() -> list[tuple]:
    return list(Customer.objects.order_by("pk").values_list())
