import pytest

from tests.factories import make_user

VIEW, CREATE, UPDATE = "view_customer_attribute", "create_customer_attribute", "update_customer_attribute"


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Render pages without a collectstatic run: the manifest storage (DEBUG off) needs collected files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; a deliberately slow hasher would only slow them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
