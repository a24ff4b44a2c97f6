"""Sign-in brute force: django-axes locks a username from one address after repeated failures.

API throttling (429 with Retry-After, per user and per anonymous address) is tested in tests/api/test_tokens.py.
"""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import Client

from tests.factories import make_user

PASSWORD = "pw-for-tests-1"
ADDRESS, OTHER_ADDRESS = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def victim(db):
    return make_user(username="victim")


def sign_in(client: Client, username: str, password: str, address: str = ADDRESS):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_until_locked(client: Client, username: str = "victim", address: str = ADDRESS):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, username, "wrong-password", address)
    return response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_failures_below_the_limit_only_show_the_error(client, victim):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "victim", "wrong-password")
        assert response.status_code == 200
        assert "Too many failed sign-in attempts" not in response.text

    assert sign_in(client, "victim", PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_limit_locks_the_user_from_that_address_with_a_clear_message(client, victim):
    locked = fail_until_locked(client)

    assert settings.AXES_FAILURE_LIMIT == 5
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text
    assert "ask an administrator to unlock it" in " ".join(locked.text.split())
    assert "Content-Security-Policy" in locked  # the lockout page is one of ours, with the same headers


def test_even_the_right_password_is_refused_while_locked(client, victim):
    fail_until_locked(client)

    response = sign_in(client, "victim", PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert not signed_in(client)


def test_authenticate_itself_refuses_a_locked_user(victim):
    """Every sign-in path goes through the backend, not only the login page (the request is required)."""
    fail_until_locked(Client())
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = ADDRESS

    assert authenticate(request=request, username="victim", password=PASSWORD) is None


def test_the_lock_is_per_user_and_address(client, victim):
    make_user(username="bystander")
    fail_until_locked(client)

    assert sign_in(Client(), "victim", PASSWORD, OTHER_ADDRESS).status_code == 302  # the user elsewhere
    assert sign_in(Client(), "bystander", PASSWORD, ADDRESS).status_code == 302  # another user here


def test_a_superuser_unlocks_by_deleting_the_attempt_in_admin(client, victim, superuser):
    fail_until_locked(client)
    attempt = AccessAttempt.objects.get(username="victim", ip_address=ADDRESS)
    admin = Client()
    admin.force_login(superuser)

    listing = admin.get("/admin/axes/accessattempt/")
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and "victim" in listing.text
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.filter(username="victim").exists()
    assert sign_in(client, "victim", PASSWORD).status_code == 302
    assert signed_in(client)


def test_a_successful_sign_in_resets_the_failure_count(client, victim):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "victim", "wrong-password")
    sign_in(client, "victim", PASSWORD)
    client.post("/accounts/logout/")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "victim", "wrong-password").status_code == 200
    assert sign_in(client, "victim", PASSWORD).status_code == 302
