"""Settings come from the environment; a bad or missing value stops the start with a message naming it."""

import json
import secrets

import pytest

PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "ENGINE": db["ENGINE"],
    "TIME_ZONE": settings.TIME_ZONE,
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
}))
"""


@pytest.fixture
def production_env(child_env) -> dict[str, str]:
    """What an operator sets in production: DEBUG off, a long random key, the site's host and origin."""
    return {
        **child_env,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crm.example.net",
        "CSRF_TRUSTED_ORIGINS": "https://crm.example.net",
    }


def loaded_settings(run_child, env: dict[str, str]) -> dict:
    result = run_child(env, "-c", PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_missing_secret_key_with_debug_off_stops_start(run_child, child_env):
    result = run_child({**child_env, "DEBUG": "false"}, "manage.py", "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_missing_secret_key_with_debug_unset_stops_start(run_child, child_env):
    """DEBUG defaults to off, so an empty environment is a production start without a key."""
    result = run_child(child_env, "manage.py", "check")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_empty_secret_key_with_debug_off_stops_start(run_child, child_env):
    result = run_child({**child_env, "DEBUG": "false", "SECRET_KEY": ""}, "manage.py", "check")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_missing_secret_key_is_allowed_with_debug_on(run_child, child_env):
    result = run_child({**child_env, "DEBUG": "true"}, "manage.py", "check")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("SECURE_SSL_REDIRECT", "sometimes", "SECURE_SSL_REDIRECT='sometimes' is not a boolean"),
        (
            "ATTRIBUTES_REQUIRE_DEFINITION",
            "perhaps",
            "ATTRIBUTES_REQUIRE_DEFINITION='perhaps' is not a boolean",
        ),
        ("DATABASE_URL", "nonsense", "DATABASE_URL (scheme '') is not a database URL"),
        ("DATABASE_URL", "mysqlx://crm:hunter2@db/crm", "DATABASE_URL (scheme 'mysqlx') is not a database URL"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "TIME_ZONE='Mars/Olympus_Mons' is not a known time zone"),
        ("TIME_ZONE", "", "TIME_ZONE='' is not a known time zone"),
        ("CSRF_TRUSTED_ORIGINS", "crm.example.net", "CSRF_TRUSTED_ORIGINS entries need a scheme"),
        ("CONN_MAX_AGE", "forever", "CONN_MAX_AGE='forever' is not a whole number"),
        ("SECURE_HSTS_SECONDS", "1y", "SECURE_HSTS_SECONDS='1y' is not a whole number"),
        ("CACHE_URL", "nonsense://here", "CACHE_URL: Invalid cache schema nonsense"),
        ("DATABASE_REPLICA_URLS", "nonsense", "DATABASE_REPLICA_URLS entry 1 is not a database URL"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' must be text or json"),
        ("REQUEST_ID_TRUSTED_PROXIES", "proxy.lan", "REQUEST_ID_TRUSTED_PROXIES: 'proxy.lan' is not an address"),
        ("METRICS_ALLOWED_IPS", "10.0.0.0/33", "METRICS_ALLOWED_IPS: '10.0.0.0/33' is not an address"),
    ],
)
def test_bad_value_stops_start_with_message_naming_it(run_child, production_env, name, value, message):
    result = run_child({**production_env, name: value}, "manage.py", "check")

    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr


def test_bad_database_url_message_does_not_echo_the_password(run_child, production_env):
    result = run_child({**production_env, "DATABASE_URL": "mysqlx://crm:hunter2@db/crm"}, "manage.py", "check")

    assert result.returncode != 0
    assert "hunter2" not in result.stderr


def test_production_like_environment_passes_deploy_check_without_warnings(run_child, production_env):
    result = run_child(production_env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_like_postgres_environment_passes_deploy_check(run_child, production_env):
    env = {**production_env, "DATABASE_URL": "postgres://crm:secret@db.example.net:5432/crm"}

    result = run_child(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_deploy_check_flags_debug_left_on(run_child, production_env):
    """The deploy check is strict enough to catch a real misconfiguration (so its silence above means something)."""
    result = run_child({**production_env, "DEBUG": "true"}, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_debug_off_defaults_are_production_safe(run_child, production_env):
    values = loaded_settings(run_child, production_env)

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


def test_security_defaults_can_be_relaxed_for_plain_http_behind_a_proxy(run_child, production_env):
    env = {
        **production_env,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
    }

    values = loaded_settings(run_child, env)

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_unset_values_fall_back_to_documented_defaults(run_child, child_env):
    values = loaded_settings(run_child, {**child_env, "DEBUG": "true"})

    assert values["TIME_ZONE"] == "UTC"
    assert values["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["CONN_MAX_AGE"] > 0
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]


def test_postgres_database_url_keeps_persistent_connections(run_child, production_env):
    env = {**production_env, "DATABASE_URL": "postgres://crm:secret@db.example.net:5432/crm", "CONN_MAX_AGE": "300"}

    values = loaded_settings(run_child, env)

    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["CONN_MAX_AGE"] == 300


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(run_child, child_env):
    code = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0], connection.transaction_mode)
"""
    result = run_child({**child_env, "DEBUG": "true"}, "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "IMMEDIATE"]


def test_env_file_values_are_read_and_real_environment_wins(run_child, child_env, tmp_path):
    env_file = tmp_path / "crm.env"
    env_file.write_text("DEBUG=false\nSECRET_KEY=from-the-file\nTIME_ZONE=Europe/Berlin\n")
    env = {**child_env, "ENV_FILE": str(env_file), "TIME_ZONE": "America/New_York"}

    values = loaded_settings(run_child, env)

    assert values["DEBUG"] is False  # and it started, so SECRET_KEY came from the file
    assert values["TIME_ZONE"] == "America/New_York"
