"""The protocol points of issue 11 against a real gunicorn with DEBUG off, as the outside probe saw them:
a chunked request body, HEAD on /healthz/, a JSON 404 under /crm/ and a throttle a spoofed address cannot pass."""

import json

import pytest
import requests

from tests.reliability.conftest import ATTRIBUTE_PERMS, Gunicorn, migrate_and_seed, production_env, serving


@pytest.fixture(scope="module")
def site(static_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("protocol")
    env = production_env(
        database_url=f"sqlite:///{work / 'db.sqlite3'}",
        static_root=static_root,
        API_THROTTLE_ANON_RATE="3/min",
        API_THROTTLE_AUTH_FAILURE_RATE="4/min",
    )
    data = migrate_and_seed(env, users=[{"username": "writer", "perms": ATTRIBUTE_PERMS}], customers=1)
    server = Gunicorn(env, work / "gunicorn.log", workers=1)
    with serving(server):
        yield server, data["tokens"]["writer"][0], data["customers"][0]


def test_chunked_put_body_is_read(site):
    server, token, customer = site
    item = {"customer_id": customer, "attribute_name": "support_tier", "attribute_value": "premium"}
    body = json.dumps(item).encode()

    response = requests.put(
        f"{server.url}/crm/attribute/",
        data=iter([body[:10], body[10:]]),  # a generator: requests sends it chunked, without Content-Length
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )

    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 201, response.text
    assert response.json()["attribute_value"] == "premium"


def test_head_healthz_and_json_404_under_crm(site):
    server, _, _ = site

    assert requests.head(f"{server.url}/healthz/", timeout=10).status_code == 200
    missing = requests.get(f"{server.url}/crm/nothing-here", headers={"Accept": "text/html"}, timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}


def test_spoofed_forwarded_for_and_wrong_tokens_are_throttled(site):
    server, _, _ = site
    anonymous = [
        requests.get(f"{server.url}/crm/schema/", headers={"X-Forwarded-For": f"198.51.100.{n}"}, timeout=10)
        for n in range(6)
    ]
    wrong = [
        requests.get(f"{server.url}/crm/customer/", headers={"Authorization": f"Bearer crm_wrong{n}"}, timeout=10)
        for n in range(6)
    ]

    assert [r.status_code for r in anonymous] == [200, 200, 200, 429, 429, 429]
    assert [r.status_code for r in wrong] == [401, 401, 401, 401, 429, 429]
    assert int(wrong[-1].headers["Retry-After"]) > 0
