import pytest

from tests.factories import make_user

VIEW, CREATE, UPDATE = "view_customer_attribute", "create_customer_attribute", "update_customer_attribute"


@pytest.fixture
def viewer(client, db):
    """Signed in; may see customers and their attributes."""
    user = make_user("view_customer", VIEW)
    client.force_login(user)
    return user


@pytest.fixture
def importer(client, db):
    """Signed in; may see customers and create and update attributes (what an import needs)."""
    user = make_user("view_customer", VIEW, CREATE, UPDATE)
    client.force_login(user)
    return user
