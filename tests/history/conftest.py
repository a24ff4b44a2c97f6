"""History tests: real rows, real HTTP (Django's test client, DRF's APIClient with real bearer tokens)."""

import pytest
from rest_framework.test import APIClient

from attributes.models import Attribute
from tests.factories import bearer_client, make_user

VIEW, CREATE, UPDATE, DELETE = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
ALL = (VIEW, CREATE, UPDATE, DELETE)
ROW_FIELDS = (
    "history_type",
    "operation",
    "channel",
    "actor_name",
    "token_name",
    "attribute_name",
    "attribute_value",
    "previous_name",
    "previous_value",
)


def history_rows(**filters) -> list:
    """History rows matching `filters`, oldest first."""
    return list(Attribute.history.filter(**filters).order_by("history_date", "history_id"))


def latest(**filters):
    return Attribute.history.filter(**filters).order_by("-history_date", "-history_id").first()


def summary(row) -> dict[str, str]:
    """The recorded facts of one history row, for one readable comparison."""
    return {field: getattr(row, field) for field in ROW_FIELDS}


def expected(**fields) -> dict[str, str]:
    """A `summary()` with every field not named left empty."""
    return {field: fields.get(field, "") for field in ROW_FIELDS}


def bearer(user, token_name: str = "billing-sync") -> APIClient:
    """An APIClient sending a real token issued to `user` under `token_name`."""
    return bearer_client(user, token_name)


@pytest.fixture
def editor(client, db):
    """Signed in with every attribute permission (and may see customers)."""
    user = make_user("view_customer", *ALL, username="editor")
    client.force_login(user)
    return user
