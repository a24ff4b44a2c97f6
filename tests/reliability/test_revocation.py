"""Revocation is immediate across instances: two gunicorn instances, one PostgreSQL database (issue 17).

The bearer lookup reads token, user and permissions in one statement on every request and caches none of it, so
what an admin changes is seen by the very next request on every instance. Each case first makes the token work on
instance B (so B's workers hold warm, persistent connections and prepared statements), changes the database
through instance A's process or directly, and asks B again at once.
PostgreSQL only, like the scale-out test: SQLite is one file on one machine.
"""

import os
import re

import psycopg
import pytest
import requests

from .conftest import (
    ATTRIBUTE_PERMS,
    HOST,
    Gunicorn,
    database_url,
    migrate_and_seed,
    production_env,
    serving,
    sign_in,
)

USER_ID = "(SELECT id FROM auth_user WHERE username = %(username)s)"
USERS = ["revoked", "deactivated", "unpermitted", "ungrouped", "expired", "control"]


@pytest.fixture(scope="module")
def pair(static_root, tmp_path_factory):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("runs on PostgreSQL only (DATABASE_URL=postgres://…): SQLite is not shared by hosts")
    name = f"crm_revocation_{os.getpid()}"
    server = {"host": db["HOST"] or HOST, "port": db["PORT"] or 5432, "user": db["USER"], "password": db["PASSWORD"]}
    admin = psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in server.items() if v})
    url = database_url(**server, name=name)
    env = production_env(database_url=url, static_root=static_root, CONN_MAX_AGE="600")
    logs = tmp_path_factory.mktemp("revocation")
    try:
        admin.execute(f"CREATE DATABASE {name}")
        users = [{"username": user, "perms": ATTRIBUTE_PERMS} for user in USERS]
        data = migrate_and_seed(env, users=users, customers=1)
        servers = tuple(Gunicorn(env, logs / f"{label}.log") for label in ("a", "b"))
        with serving(*servers):
            yield {
                "a": servers[0], "b": servers[1], "url": url, "tokens": data["tokens"], "customer": data["customers"][0]
            }  # fmt: skip
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def get(server: Gunicorn, token: str, customer: int) -> requests.Response:
    return requests.get(
        f"{server.url}/crm/attribute/customer_id/{customer}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def warm(pair, username: str) -> str:
    token = pair["tokens"][username][0]
    for _ in range(8):  # past psycopg's prepare threshold on each of B's two workers (most likely)
        assert get(pair["b"], token, pair["customer"]).status_code == 200
    assert get(pair["a"], token, pair["customer"]).status_code == 200
    return token


def change(pair, sql: str, username: str) -> None:
    with psycopg.connect(pair["url"], autocommit=True) as db:
        db.execute(sql, {"username": username})


def test_a_revoked_token_is_refused_by_the_next_request_on_the_other_instance(pair):
    token = warm(pair, "revoked")
    # Revoked as a user does it: signed in on instance A, the revoke button of the API tokens page.
    browser = sign_in(pair["a"].url, "revoked")
    page = browser.get(f"{pair['a'].url}/account/tokens/", timeout=10)
    revoke_path = re.search(r'action="(/account/tokens/\d+/revoke/)"', page.text).group(1)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    revoked = browser.post(
        pair["a"].url + revoke_path, data={"csrfmiddlewaretoken": csrf}, allow_redirects=False, timeout=10
    )
    assert revoked.status_code == 302, revoked.text[:300]

    answers = [get(pair["b"], token, pair["customer"]).status_code for _ in range(4)]

    assert answers == [401] * 4


def test_a_deactivated_user_is_refused_by_the_next_request_on_the_other_instance(pair):
    token = warm(pair, "deactivated")
    change(pair, "UPDATE auth_user SET is_active = false WHERE username = %(username)s", "deactivated")  # as admin does

    assert [get(pair["b"], token, pair["customer"]).status_code for _ in range(4)] == [401] * 4


def test_a_removed_permission_is_refused_by_the_next_request_on_the_other_instance(pair):
    token = warm(pair, "unpermitted")
    change(
        pair,
        f"DELETE FROM auth_user_user_permissions WHERE user_id = {USER_ID}"
        " AND permission_id = (SELECT id FROM auth_permission WHERE codename = 'view_customer_attribute')",
        "unpermitted",
    )

    assert [get(pair["b"], token, pair["customer"]).status_code for _ in range(4)] == [403] * 4


def test_a_permission_removed_from_a_group_is_refused_by_the_next_request(pair):
    """Permissions through a group: leaving the group takes them away at once too."""
    username = "ungrouped"
    with psycopg.connect(pair["url"], autocommit=True) as db:
        db.execute(
            "DELETE FROM auth_user_user_permissions WHERE user_id = (SELECT id FROM auth_user WHERE username = %s)",
            [username],
        )
        db.execute(
            "INSERT INTO auth_user_groups (user_id, group_id) SELECT u.id, g.id FROM auth_user u, auth_group g "
            "WHERE u.username = %s AND g.name = 'Integration'",
            [username],
        )
    token = warm(pair, username)
    change(pair, f"DELETE FROM auth_user_groups WHERE user_id = {USER_ID}", username)

    assert [get(pair["b"], token, pair["customer"]).status_code for _ in range(4)] == [403] * 4


def test_an_expired_token_is_refused_by_the_next_request(pair):
    token = warm(pair, "expired")
    change(
        pair,
        f"UPDATE tokens_apitoken SET expires = now() - interval '1 second' WHERE user_id = {USER_ID}",
        "expired",
    )

    assert [get(pair["b"], token, pair["customer"]).status_code for _ in range(4)] == [401] * 4


def test_the_other_users_token_still_works(pair):
    token = warm(pair, "control")

    assert [get(pair["b"], token, pair["customer"]).status_code for _ in range(4)] == [200] * 4
