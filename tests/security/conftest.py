"""Security and reliability tests: real users, real bearer tokens, the whole middleware stack.

`world` builds one of everything the URLs take an id for (customer, attribute, history row, registry
definition, API token), so generated requests and the permission sweep reach real objects.
"""

from dataclasses import dataclass
from functools import partial

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from attributes.models import Attribute, AttributeDefinition
from customers.models import Customer
from tests.factories import bearer_client, make_attribute, make_customer, make_user
from tokens.models import ApiToken

ROLES = ("Support", "Customer admin", "Integration")
# Every permission a user of this product can hold: the customers' and the attributes' own.
ALL_CODENAMES = (
    "view_customer",
    "add_customer",
    "change_customer",
    "delete_customer",
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
    "manage_attribute_registry",
    "manage_webhooks",
)
XSS_PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
)


@pytest.fixture(autouse=True)
def _failed_authentications_not_throttled(monkeypatch):
    """The fuzzer sends hundreds of wrong tokens from one address within a test; past the failure limit every
    bearer request would be 429 and its state machine would see a different API. Tested in tests/api/test_tokens.py."""
    from tokens.authentication import FailedAuthenticationThrottle

    monkeypatch.setattr(FailedAuthenticationThrottle, "THROTTLE_RATES", {"auth_failure": None})


def every_permission() -> list[Permission]:
    return list(Permission.objects.filter(codename__in=ALL_CODENAMES))


# The token's name says which suite made it.
bearer = partial(bearer_client, name="security-tests")


@pytest.fixture
def api(world) -> APIClient:
    """A bearer-token client for a user holding every permission (`world` made first, as the tests need)."""
    return bearer(make_user(*ALL_CODENAMES))


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1")


@pytest.fixture
def everything_user(db) -> User:
    """Every permission the product defines, but not a superuser (so permission checks still run)."""
    return make_user(*ALL_CODENAMES, username="everything")


@pytest.fixture
def nobody_user(db) -> User:
    """Signed in, active, no permission at all."""
    return make_user(username="nobody")


@dataclass
class World:
    customer: Customer
    other_customer: Customer
    attribute: Attribute
    other_attribute: Attribute  # belongs to other_customer
    history_id: int
    definition: AttributeDefinition
    token: ApiToken
    owner: User  # the token's user


@pytest.fixture
def world(db) -> World:
    customer = make_customer(customer_name="Acme Fiber Ltd")
    other = make_customer(customer_name="Other Networks")
    attribute = make_attribute(customer, "external_crm_id", "SF-12345")
    make_attribute(customer, "support_tier", "premium")
    other_attribute = make_attribute(other, "vlan_id", "100")
    history_id = Attribute.history.filter(attribute_id=attribute.pk).values_list("history_id", flat=True).first()
    definition = AttributeDefinition.objects.create(name="billing_method", description="How we bill.")
    owner = make_user(username="token-owner")
    token, _ = ApiToken.issue(user=owner, name="billing sync")
    return World(customer, other, attribute, other_attribute, history_id, definition, token, owner)
