import pytest

from tests.factories import make_attribute, make_customer, make_user

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def customer(db):
    return make_customer(customer_name="Acme Fiber Ltd")


@pytest.fixture
def attribute(customer):
    return make_attribute(customer, "external_crm_id", "SF-12345")


@pytest.fixture
def user_factory(db):
    return make_user


@pytest.fixture
def login(client):
    """Sign `client` in as a user with the given permission codenames; returns the user."""

    def _login(*codenames: str, **kwargs):
        user = make_user(*codenames, **kwargs)
        client.force_login(user)
        return user

    return _login


@pytest.fixture
def admin_user(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
