"""A value written under a sensitive name is nowhere in plain in the database: not in the SQLite file, not in a
`pg_dump` of PostgreSQL. Data is committed (a transactional test), so the file and the dump hold it."""

import subprocess
from pathlib import Path

import pytest
from django.db import connection

from attributes import services
from events.services import events_sequence
from tests.factories import bearer_client, make_customer, make_user

from .conftest import SEE, VIEW, WRITE

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = ["sk_live_AtRest4x9Qm2", "sk_live_Changed7Hq1Lp", "sk_live_Bulk3Vd8Wn5"]


def _database_bytes() -> bytes:
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        files = [name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-journal")]
        # Read by another process: closing a file descriptor of the database in this one would drop every POSIX
        # lock SQLite holds on it here (sqlite.org/howtocorrupt.html, 2.2), and the worker processes of later
        # tests then corrupted the file ("database disk image is malformed").
        existing = [str(path) for path in files if path.exists()]
        return subprocess.run(["cat", *existing], check=True, capture_output=True, timeout=60).stdout
    settings = connection.settings_dict
    command = ["pg_dump", "--no-owner", "-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432),
               "-U", settings["USER"] or "postgres", settings["NAME"]]  # fmt: skip
    env = {"PGPASSWORD": settings.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, check=True, capture_output=True, env=env, timeout=60).stdout


def test_sensitive_values_are_in_no_database_file_or_dump(api_key):
    customer, other = make_customer(), make_customer()
    writer = bearer_client(make_user(*WRITE, VIEW, SEE))
    created = writer.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "api_key", "attribute_value": SECRETS[0]},
        format="json",
    )
    assert created.status_code == 201
    changed = writer.patch(
        f"/crm/attribute/attribute_id/{created.json()['attribute_id']}", {"attribute_value": SECRETS[1]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["attribute_value"] == SECRETS[1]
    bulk = writer.put(
        "/crm/attribute/bulk",
        [{"customer_id": other.pk, "attribute_name": "api_key", "attribute_value": SECRETS[2]}],
        format="json",
    )
    assert bulk.status_code == 200
    assert writer.get(f"/crm/attribute/customer_id/{customer.pk}").json()[0]["attribute_value"] == SECRETS[1]
    services.usage_refresh()
    events_sequence()
    services.attribute_upsert(customer=customer, name="plain_marker", value="plain-marker-9f3k", actor=None)

    dump = _database_bytes()

    assert b"plain-marker-9f3k" in dump  # the search would find a value written in plain
    for secret in SECRETS:
        assert secret.encode() not in dump, secret
