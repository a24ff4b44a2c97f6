import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.factories import bearer_client, make_attribute, make_customer, make_user

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
def login(client, db):
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


@pytest.fixture
def admin_client_(client, admin_user):
    """The test client signed in as the superuser."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def api(db):
    """`api(*codenames)`: a bearer-token client for a new user holding exactly those permissions."""

    def _api(*codenames: str, **user_fields) -> APIClient:
        return bearer_client(make_user(*codenames, **user_fields))

    return _api


@pytest.fixture
def anon():
    """An API client without credentials."""
    return APIClient()


@pytest.fixture
def attribute_rows():
    """`attribute_rows()`: a snapshot of every attribute row, to show that a rejected request changed nothing."""
    return factories.attribute_rows


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and other cached state live in the cache: start every test from empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Render pages without a collectstatic run: the production manifest storage (DEBUG off) needs collected
    files. Tests that start gunicorn run a real collectstatic into a temporary STATIC_ROOT instead."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher would spend most of the run hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_unconfigure(config):
    """Django removes the SQLite test database file but not WAL mode's -wal and -shm files beside it."""
    from pathlib import Path

    from django.conf import settings

    if not settings.configured:
        return
    database = settings.DATABASES["default"]
    name = database.get("TEST", {}).get("NAME")
    if database["ENGINE"].endswith("sqlite3") and name and not Path(name).exists():
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def workers(tmp_path):
    """Start real `run_worker` processes on the test database (see tests/workers.py); all die with the test."""
    from tests.workers import Workers

    pool = Workers(tmp_path)
    yield pool
    pool.close()
