"""API fixtures: clients that authenticate the way integrations do, with real bearer tokens."""

import pytest
from rest_framework.test import APIClient

from attributes.models import Attribute
from tests.factories import make_user
from tokens.models import ApiToken

ALL_ATTRIBUTE_PERMS = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
ALL_CUSTOMER_PERMS = ("view_customer", "add_customer", "change_customer", "delete_customer")


def bearer_client(user) -> APIClient:
    """An APIClient that sends a freshly issued token for `user` on every request."""
    _, raw = ApiToken.issue(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.user = user
    client.raw_token = raw
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made per test; the production hasher would spend most of the suite's time hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api(db):
    """`api(*codenames)`: a bearer-token client for a new user holding exactly those permissions."""

    def _api(*codenames: str, **user_fields) -> APIClient:
        return bearer_client(make_user(*codenames, **user_fields))

    return _api


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def attribute_rows():
    """A snapshot of every attribute row, to show that a rejected request changed nothing."""

    def _rows():
        return list(
            Attribute.objects.order_by("pk").values_list(
                "pk", "customer_id", "attribute_name", "attribute_value", "created", "last_modified"
            )
        )

    return _rows


@pytest.fixture
def _plain_static_storage(settings):
    """Pages that use `{% static %}` render without a collectstatic run (the manifest storage needs one)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
