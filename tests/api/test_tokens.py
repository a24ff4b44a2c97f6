"""Bearer tokens (hashed storage, expiry, revocation, last use, the command), session auth and throttling."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from attributes.models import Attribute
from tests.factories import bearer_client, make_customer, make_user
from tokens.models import ApiToken

VIEW_PATH = "/crm/customer/"


def with_token(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def viewer(db):
    return make_user("view_customer", "view_customer_attribute")


# --- storage -----------------------------------------------------------------------------------------


def test_token_is_stored_only_as_its_sha256_digest(viewer):
    token, raw = ApiToken.issue(user=viewer, name="billing sync")

    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(value) for value in row.values()]
    assert row["key_digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert len(raw) >= 40
    assert raw.startswith(row["key_hint"])
    assert len(row["key_hint"]) < len(raw) // 2


def test_issued_tokens_are_unique(viewer):
    raws = {ApiToken.issue(user=viewer, name=f"t{n}")[1] for n in range(20)}

    assert len(raws) == 20


def test_user_can_hold_several_named_tokens_that_each_work(viewer):
    _, billing = ApiToken.issue(user=viewer, name="billing sync")
    _, crm = ApiToken.issue(user=viewer, name="salesforce bridge")

    assert with_token(billing).get(VIEW_PATH).status_code == 200
    assert with_token(crm).get(VIEW_PATH).status_code == 200
    assert sorted(viewer.api_tokens.values_list("name", flat=True)) == ["billing sync", "salesforce bridge"]


def test_token_acts_with_its_users_permissions(db):
    client = bearer_client(make_user("view_customer"))

    assert client.get(VIEW_PATH).status_code == 200
    assert client.put(VIEW_PATH, {"customer_name": "x"}, format="json").status_code == 403


# --- expiry and invalid tokens -----------------------------------------------------------------------


def test_token_before_its_expiry_works(viewer):
    _, raw = ApiToken.issue(user=viewer, name="short lived", expires_days=1)

    assert with_token(raw).get(VIEW_PATH).status_code == 200


def test_expired_token_is_refused_with_401(viewer):
    token, raw = ApiToken.issue(user=viewer, name="short lived", expires_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))

    response = with_token(raw).get(VIEW_PATH)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_deactivated_user_is_refused(viewer):
    _, raw = ApiToken.issue(user=viewer, name="t")
    viewer.is_active = False
    viewer.save()

    assert with_token(raw).get(VIEW_PATH).status_code == 401


def test_expired_token_is_refused_on_the_list_whose_data_its_statement_reads(viewer):
    """The customer list is read inside the token's statement (token_companion): an expired token still gets 401."""
    customer = make_customer()
    token, raw = ApiToken.issue(user=viewer, name="short lived", expires_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))

    response = with_token(raw).get(f"/crm/attribute/customer_id/{customer.pk}")

    assert response.status_code == 401
    assert "attribute" not in response.content.decode()


def test_authenticated_token_loads_the_columns_it_leaves_out_when_read(viewer):
    """The token's statement reads only what a request uses; the rest is deferred, as with only(), not missing."""
    from tokens.authentication import BearerTokenAuthentication

    token, raw = ApiToken.issue(user=viewer, name="t", expires_days=3)
    user, authenticated = BearerTokenAuthentication()._authenticate([b"Bearer", raw.encode()])

    assert authenticated.get_deferred_fields() == {"created", "expires", "key_digest"}
    assert user.get_deferred_fields() == {"password", "last_login", "date_joined"}
    assert authenticated.expires == token.expires
    assert authenticated.created == token.created
    assert user.date_joined == viewer.date_joined
    assert user.check_password("x") is False  # the password hash loads too


def test_digest_sent_as_token_is_refused(viewer):
    token, _ = ApiToken.issue(user=viewer, name="t")

    assert with_token(token.key_digest).get(VIEW_PATH).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer a b", "Bearer crm_unknown", "Token crm_unknown", "Basic dXNlcjpwdw=="]
)
def test_malformed_or_foreign_authorization_header_is_401(header, viewer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(VIEW_PATH)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- last use ----------------------------------------------------------------------------------------


def test_first_use_records_last_used(viewer):
    token, raw = ApiToken.issue(user=viewer, name="t")
    assert token.last_used is None

    with_token(raw).get(VIEW_PATH)

    token.refresh_from_db()
    assert token.last_used is not None
    assert timezone.now() - token.last_used < timedelta(minutes=1)


def test_second_request_in_a_row_does_not_write_last_used(viewer):
    token, raw = ApiToken.issue(user=viewer, name="t")
    client = with_token(raw)

    with CaptureQueriesContext(connection) as first:
        assert client.get(VIEW_PATH).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(VIEW_PATH).status_code == 200

    def token_updates(queries):
        return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "tokens_apitoken" in q["sql"]]

    assert len(token_updates(first)) == 1
    assert token_updates(second) == []


def test_stale_last_used_is_refreshed_on_next_use(viewer):
    token, raw = ApiToken.issue(user=viewer, name="t")
    long_ago = timezone.now() - timedelta(hours=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used=long_ago)

    with_token(raw).get(VIEW_PATH)

    token.refresh_from_db()
    assert token.last_used > long_ago + timedelta(hours=1)


# --- the API tokens page -----------------------------------------------------------------------------


@pytest.fixture
def page_client(client, viewer):
    client.force_login(viewer)
    return client


def test_tokens_page_requires_sign_in(client, db):
    response = client.get("/account/tokens/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_tokens_page_lists_only_own_tokens(page_client, viewer):
    ApiToken.issue(user=viewer, name="mine-billing")
    ApiToken.issue(user=make_user(), name="someone-elses")

    response = page_client.get("/account/tokens/")

    assert response.status_code == 200
    assert b"mine-billing" in response.content
    assert b"someone-elses" not in response.content


def test_tokens_page_creates_a_token_shown_once_that_works(page_client, viewer):
    response = page_client.post("/account/tokens/", {"name": "nightly export", "expires_days": "30"})

    assert response.status_code == 200
    raw = response.context["new_token"]
    assert raw.encode() in response.content
    token = viewer.api_tokens.get(name="nightly export")
    assert token.key_digest == hashlib.sha256(raw.encode()).hexdigest()
    assert timedelta(days=29) < token.expires - timezone.now() <= timedelta(days=30)
    assert with_token(raw).get(VIEW_PATH).status_code == 200
    assert raw.encode() not in page_client.get("/account/tokens/").content


def test_revoking_own_token_on_the_page_stops_it_working(page_client, viewer):
    token, raw = ApiToken.issue(user=viewer, name="retire me")
    _, kept = ApiToken.issue(user=viewer, name="keep me")
    assert with_token(raw).get(VIEW_PATH).status_code == 200

    response = page_client.post(f"/account/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert with_token(raw).get(VIEW_PATH).status_code == 401
    assert with_token(kept).get(VIEW_PATH).status_code == 200


def test_revoking_another_users_token_is_404_and_keeps_it(page_client):
    other_token, other_raw = ApiToken.issue(user=make_user("view_customer"), name="not yours")

    response = page_client.post(f"/account/tokens/{other_token.pk}/revoke/")

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=other_token.pk).exists()
    assert with_token(other_raw).get(VIEW_PATH).status_code == 200


def test_revoke_needs_post(page_client, viewer):
    token, _ = ApiToken.issue(user=viewer, name="t")

    response = page_client.get(f"/account/tokens/{token.pk}/revoke/")

    assert response.status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()


# --- create_api_token --------------------------------------------------------------------------------


def test_create_api_token_command_prints_a_working_token_on_its_last_line(viewer):
    out = StringIO()

    call_command("create_api_token", viewer.username, "--name", "N", "--expires-days", "3", stdout=out)

    raw = out.getvalue().rstrip("\n").splitlines()[-1]
    assert raw == raw.strip()
    assert " " not in raw
    token = ApiToken.objects.get(user=viewer, name="N")
    assert token.key_digest == hashlib.sha256(raw.encode()).hexdigest()
    assert timedelta(days=2, hours=23) < token.expires - timezone.now() <= timedelta(days=3)
    assert with_token(raw).get(VIEW_PATH).status_code == 200


def test_create_api_token_command_without_expiry_makes_a_token_that_never_expires(viewer):
    out = StringIO()

    call_command("create_api_token", viewer.username, stdout=out)

    token = ApiToken.objects.get(user=viewer)
    assert token.expires is None
    assert with_token(out.getvalue().splitlines()[-1]).get(VIEW_PATH).status_code == 200


def test_create_api_token_command_for_unknown_user_fails(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", stdout=StringIO())

    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("days", ["0", "-1"])
def test_create_api_token_command_refuses_non_positive_expiry(days, viewer):
    with pytest.raises(CommandError):
        call_command("create_api_token", viewer.username, "--expires-days", days, stdout=StringIO())

    assert ApiToken.objects.count() == 0


# --- browser sessions against the API ----------------------------------------------------------------


def test_signed_in_session_can_read_the_api(viewer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)

    response = client.get(VIEW_PATH)

    assert response.status_code == 200


def test_session_write_without_csrf_token_is_403_and_changes_nothing(db):
    user = make_user("create_customer_attribute", "update_customer_attribute")
    customer = make_customer()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"},
        format="json",
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Attribute.objects.exists()


def test_session_write_with_csrf_token_is_accepted(db):
    user = make_user("create_customer_attribute")
    customer = make_customer()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/account/tokens/")  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value

    response = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert response.status_code == 201


def test_bearer_token_writes_need_no_csrf_token(db):
    customer = make_customer()
    client = bearer_client(make_user("create_customer_attribute"))
    client.handler.enforce_csrf_checks = True

    response = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"},
        format="json",
    )

    assert response.status_code == 201


# --- throttling --------------------------------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    """DRF reads the rates once at import; set tiny ones on the throttle classes for this test."""
    rates = {"user": "3/min", "anon": "2/min"}
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)


def test_token_requests_beyond_the_user_rate_get_429_with_retry_after(low_rates, viewer):
    client = bearer_client(viewer)

    statuses = [client.get(VIEW_PATH).status_code for _ in range(3)]
    limited = client.get(VIEW_PATH)

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_user_rate_is_per_user_across_tokens(low_rates, viewer):
    first, second = bearer_client(viewer), bearer_client(viewer)
    someone_else = bearer_client(make_user("view_customer"))

    for _ in range(3):
        first.get(VIEW_PATH)

    assert second.get(VIEW_PATH).status_code == 429
    assert someone_else.get(VIEW_PATH).status_code == 200


def test_anonymous_requests_beyond_the_anon_rate_get_429_with_retry_after(low_rates, db):
    client = APIClient()

    statuses = [client.get("/crm/schema/").status_code for _ in range(2)]
    limited = client.get("/crm/schema/")

    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_anonymous_rate_ignores_a_spoofed_x_forwarded_for(low_rates, db):
    """Without configured proxies the client is REMOTE_ADDR: a new X-Forwarded-For per request is no way round."""
    client = APIClient()
    for n in range(2):
        assert client.get("/crm/schema/", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 200

    spoofed = [client.get("/crm/schema/", headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(2, 12)]

    assert [response.status_code for response in spoofed] == [429] * 10


def test_anonymous_rate_behind_a_configured_proxy_reads_the_address_it_appended(low_rates, db, monkeypatch):
    """AXES_PROXY_COUNT=1 (one proxy, which appends the client address): the last X-Forwarded-For entry counts."""
    from rest_framework.settings import api_settings

    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    client = APIClient()
    for _ in range(2):
        client.get("/crm/schema/", headers={"X-Forwarded-For": "203.0.113.9, 192.0.2.1"})

    assert client.get("/crm/schema/", headers={"X-Forwarded-For": "203.0.113.10, 192.0.2.1"}).status_code == 429
    assert client.get("/crm/schema/", headers={"X-Forwarded-For": "192.0.2.2"}).status_code == 200


def test_num_proxies_comes_from_the_axes_proxy_count(settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.AXES_IPWARE_PROXY_COUNT == 0


@pytest.fixture
def low_failure_rate(monkeypatch):
    from tokens.authentication import FailedAuthenticationThrottle

    monkeypatch.setattr(FailedAuthenticationThrottle, "THROTTLE_RATES", {"auth_failure": "5/min"})


def test_failed_token_authentications_are_throttled_per_address(low_failure_rate, viewer):
    wrong = [with_token(f"crm_wrong{n}").get(VIEW_PATH) for n in range(5)]

    limited = with_token("crm_wrong_again").get(VIEW_PATH)

    assert [response.status_code for response in wrong] == [401] * 5
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_past_the_failure_limit_even_a_valid_token_waits_and_other_addresses_do_not(low_failure_rate, viewer):
    _, raw = ApiToken.issue(user=viewer, name="t")
    for n in range(5):
        with_token(f"crm_wrong{n}").get(VIEW_PATH)

    assert with_token(raw).get(VIEW_PATH).status_code == 429  # guessing cannot go on by luck
    other_address = with_token(raw).get(VIEW_PATH, REMOTE_ADDR="192.0.2.77")
    assert other_address.status_code == 200
    spoofed = with_token("crm_wrong").get(VIEW_PATH, headers={"X-Forwarded-For": "198.51.100.1"})
    assert spoofed.status_code == 429


def test_successful_token_requests_do_not_count_as_failures(low_failure_rate, viewer):
    _, raw = ApiToken.issue(user=viewer, name="t")

    assert [with_token(raw).get(VIEW_PATH).status_code for _ in range(8)] == [200] * 8
    assert with_token("crm_wrong").get(VIEW_PATH).status_code == 401


def test_failure_rate_is_configurable_from_the_environment(run_child_settings):
    assert run_child_settings({"API_THROTTLE_AUTH_FAILURE_RATE": "7/hour"}) == "7/hour"


@pytest.fixture
def run_child_settings(tmp_path):
    """The auth-failure rate a fresh process reads from `extra` environment variables."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    def _run(extra: dict[str, str]) -> str:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "ENV_FILE": os.devnull,
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **extra,
        }
        code = (
            "from django.conf import settings; print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['auth_failure'])"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    return _run


def test_tokens_app_imports_nothing_of_attributes():
    """The token's name reaches attribute history through the request (`request.auth`), not through tokens."""
    import ast
    from pathlib import Path

    import tokens

    imported = set()
    for path in Path(tokens.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module or "")
    assert not {name for name in imported if name.split(".")[0] == "attributes"}
