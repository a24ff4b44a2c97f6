"""Sensitive attributes: a name marked sensitive, its secret value, and readers with and without the permission."""

import pytest

from attributes import services
from tests.factories import make_customer

SECRET = "sk_live_Zq8xV3pL9tR2mW7yB4nK"  # what must never appear in plain where the reader may not see it
VIEW = "view_customer_attribute"
SEE = "view_sensitive_customer_attribute"
WRITE = ("create_customer_attribute", "update_customer_attribute")


@pytest.fixture
def api_key(db):
    """The registry's definition of `api_key`, marked sensitive."""
    return services.definition_create(actor=None, name="api_key", description="Billing API key", sensitive=True)


@pytest.fixture
def customer(db):
    return make_customer(customer_name="Acme Fiber Ltd")


@pytest.fixture
def secret(api_key, customer):
    """The customer's api_key, written through the service as every path writes it."""
    return services.attribute_upsert(customer=customer, name="api_key", value=SECRET, actor=None).attribute


# The security tests' world and the webhook tests' receiver, for the sweep and the payload test.
from tests.security.conftest import world  # noqa: E402, F401
from tests.webhooks.conftest import hook, manager, private_networks, receiver  # noqa: E402, F401
