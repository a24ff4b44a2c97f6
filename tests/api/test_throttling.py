"""The API throttles' window counters (crm_project/throttling.py): O(1) per request, whatever the rate."""

import pytest
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle

from crm_project.throttling import UserWindowThrottle
from tests.factories import bearer_client, make_customer, make_user


@pytest.fixture
def low_rate(monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "5/min", "anon": "5/min"})


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, moved by the test instead of waited for."""
    now = [1_000_000.0]
    monkeypatch.setattr(UserWindowThrottle, "timer", lambda self: now[0])
    return now


def test_the_counter_entry_stays_two_numbers_however_many_requests(db, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1000/min", "anon": "5/min"})
    user = make_user("view_customer_attribute")
    api = bearer_client(user)
    path = f"/crm/attribute/customer_id/{make_customer().pk}"

    for _ in range(40):
        assert api.get(path).status_code == 200

    start, count = caches["throttle"].get(f"throttle_user_{user.pk}")
    assert count == 40
    assert isinstance(start, float)


def test_past_the_limit_429_until_the_window_closes_then_a_new_window(db, low_rate, clock):
    api = bearer_client(make_user("view_customer_attribute"))
    path = f"/crm/attribute/customer_id/{make_customer().pk}"

    allowed = [api.get(path).status_code for _ in range(5)]
    clock[0] += 20
    refused = api.get(path)
    clock[0] += 39
    still_refused = api.get(path)
    clock[0] += 1.5  # 60.5 s after the window opened
    reopened = [api.get(path).status_code for _ in range(5)]
    over_again = api.get(path)

    assert allowed == [200] * 5
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 40
    assert still_refused.status_code == 429
    assert int(still_refused["Retry-After"]) == 1
    assert reopened == [200] * 5
    assert over_again.status_code == 429


def test_throttle_cache_local_is_a_per_process_memory_cache(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.CACHES['throttle']['BACKEND'], settings.CACHES['default']['BACKEND']]))"
    )

    def run(value: str) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ.get("PATH", ""), "ENV_FILE": os.devnull, "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "crm_project.settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": "redis://127.0.0.1:6379/15", "API_THROTTLE_CACHE": value,
        }  # fmt: skip
        root = Path(__file__).resolve().parents[2]
        return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)

    local, shared, wrong = run("local"), run("shared"), run("elsewhere")

    assert json.loads(local.stdout)[0] == "django.core.cache.backends.locmem.LocMemCache"
    assert json.loads(shared.stdout) == ["django.core.cache.backends.redis.RedisCache"] * 2
    assert wrong.returncode != 0
    assert "API_THROTTLE_CACHE='elsewhere' must be shared or local" in wrong.stderr
