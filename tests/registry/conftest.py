"""Registry fixtures: definitions of each type, and clients for the web UI and the API."""

import pytest

from attributes.models import AttributeDefinition
from tests.factories import bearer_client, make_user

VIEW, CREATE, UPDATE, DELETE = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
ALL = (VIEW, CREATE, UPDATE, DELETE)
MANAGE = "manage_attribute_registry"
HTMX = {"HX-Request": "true"}
HTMX_MODAL = {**HTMX, "HX-Target": "attribute-modal-content"}


def define(name: str, value_type: str = "text", **fields) -> AttributeDefinition:
    """A definition saved through its own validation, as the Registry page and admin save them."""
    definition = AttributeDefinition(name=name, value_type=value_type, **fields)
    definition.full_clean()
    definition.save()
    return definition


@pytest.fixture
def editor(client, db):
    """The web client, signed in as a user who may do everything to attributes (but not manage the registry)."""
    user = make_user("view_customer", *ALL)
    client.force_login(user)
    return user


@pytest.fixture
def api_client(db):
    return bearer_client(make_user(*ALL))
