"""Encryption at rest: what is stored for a sensitive value, keys, rotation and the start-up check."""

import base64
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from attributes import sensitive, services
from attributes.models import Attribute, AttributeDefinition
from events.models import Event
from jobs import runner
from jobs.models import Job
from tests.factories import make_customer

from .conftest import SECRET, WRITE

pytestmark = pytest.mark.django_db


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_stored_row_holds_token_and_ciphertext_not_the_value(secret):
    row = Attribute.objects.values("attribute_value", "value_ciphertext").get(pk=secret.pk)

    assert row["attribute_value"].startswith(sensitive.TOKEN_PREFIX)
    assert SECRET not in row["attribute_value"] and SECRET not in row["value_ciphertext"]
    assert sensitive.decrypt(secret.customer_id, "api_key", row["value_ciphertext"]) == SECRET


def test_history_and_event_rows_carry_no_plain_value(secret):
    services.attribute_upsert(customer=secret.customer_id, name="api_key", value="sk_second_value_1", actor=None)

    history = list(Attribute.history.values_list("attribute_value", "previous_value"))
    events = list(Event.objects.values_list("attribute_value", "previous_value"))
    assert len(history) == 2 and len(events) == 2
    for value, previous in history + events:
        assert sensitive.is_token(value)
        assert previous == "" or sensitive.is_token(previous)
        assert SECRET not in value + previous and "sk_second_value_1" not in value + previous


def test_ciphertext_moved_to_another_customer_does_not_decrypt(secret):
    other = make_customer()

    with pytest.raises(sensitive.Undecryptable):
        sensitive.decrypt(other.pk, "api_key", secret.value_ciphertext)
    with pytest.raises(sensitive.Undecryptable):
        sensitive.decrypt(secret.customer_id, "other_name", secret.value_ciphertext)


def test_same_value_is_unchanged_and_keeps_its_ciphertext(secret):
    again = services.attribute_upsert(customer=secret.customer_id, name="api_key", value=SECRET, actor=None)

    assert again.result is services.Result.UNCHANGED
    assert Attribute.objects.get(pk=secret.pk).value_ciphertext == secret.value_ciphertext


def test_limit_of_150_characters_is_on_the_plain_value(api_key, customer, api):
    client = api(*WRITE)
    ok = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "api_key", "attribute_value": "k" * 150},
        format="json",
    )
    too_long = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "api_key", "attribute_value": "k" * 151},
        format="json",
    )

    assert ok.status_code == 201
    assert too_long.status_code == 400 and "attribute_value" in too_long.json()
    stored = Attribute.objects.get(customer=customer, attribute_name="api_key")
    assert sensitive.plain_value(stored) == "k" * 150


def test_registry_type_error_does_not_quote_a_sensitive_value(customer, api):
    AttributeDefinition.objects.create(name="pin", value_type="integer", sensitive=True)

    response = api(*WRITE).put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "pin", "attribute_value": "not-a-number-s3cr3t"},
        format="json",
    )

    assert response.status_code == 400
    assert "not-a-number-s3cr3t" not in response.content.decode()
    assert "pin" in response.content.decode()


@override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[], ATTRIBUTE_INDEX_KEY="")
def test_marking_sensitive_without_keys_is_400_naming_the_setting(api):
    response = api("view_customer_attribute", "manage_attribute_registry").put(
        "/crm/attribute/definition/api_key", {"sensitive": True}, format="json"
    )

    assert response.status_code == 400
    assert "ATTRIBUTE_ENCRYPTION_KEYS" in response.json()["sensitive"][0]
    assert not AttributeDefinition.objects.exists()


def test_writing_sensitive_value_without_keys_is_400_and_writes_nothing(api_key, customer, api):
    with override_settings(ATTRIBUTE_ENCRYPTION_KEYS=[], ATTRIBUTE_INDEX_KEY=""):
        response = api(*WRITE).put(
            "/crm/attribute/",
            {"customer_id": customer.pk, "attribute_name": "api_key", "attribute_value": SECRET},
            format="json",
        )

    assert response.status_code == 400
    assert "ATTRIBUTE_INDEX_KEY" in response.json()["attribute_value"][0]
    assert not Attribute.objects.exists()


@override_settings(DEBUG=False, ATTRIBUTE_ENCRYPTION_KEYS=[], ATTRIBUTE_INDEX_KEY="")
def test_start_is_refused_with_debug_off_when_a_sensitive_name_lacks_keys(db):
    sensitive.check_startup()  # no sensitive name: starts
    AttributeDefinition.objects.create(name="api_key", sensitive=True)

    with pytest.raises(ImproperlyConfigured, match="ATTRIBUTE_ENCRYPTION_KEYS"):
        sensitive.check_startup()
    errors = [e for e in __import__("attributes.checks").checks.sensitive_keys_check() if e.id == "attributes.E001"]
    assert errors and "ATTRIBUTE_INDEX_KEY" in errors[0].msg


@override_settings(DEBUG=True, ATTRIBUTE_ENCRYPTION_KEYS=[], ATTRIBUTE_INDEX_KEY="")
def test_start_is_allowed_in_development_without_keys(db):
    AttributeDefinition.objects.create(name="api_key", sensitive=True)

    sensitive.check_startup()


@pytest.mark.parametrize("key", ["short", "not base64 at all!!", base64.urlsafe_b64encode(b"x" * 31).decode()])
def test_malformed_key_stops_settings_with_a_clear_message(key):
    from crm_project import settings

    with pytest.raises(ImproperlyConfigured, match="URL-safe base64 of 32 random bytes"):
        settings._check_key("ATTRIBUTE_ENCRYPTION_KEYS", key)


def test_rotation_with_two_keys_reencrypts_every_value_and_old_backups_stay_readable(api_key, settings):
    old_key = settings.ATTRIBUTE_ENCRYPTION_KEYS[0]
    customers = [make_customer() for _ in range(5)]
    for n, customer in enumerate(customers):
        services.attribute_upsert(customer=customer, name="api_key", value=f"secret-{n}", actor=None)
    backup = dict(Attribute.objects.values_list("pk", "value_ciphertext"))  # a dump taken before rotating
    new_key = _key()
    settings.ATTRIBUTE_ENCRYPTION_KEYS = [new_key, old_key]
    settings.ATTRIBUTES_SENSITIVE_CHUNK = 2  # several chunks

    call_command("rotate_attribute_keys", "--background")
    job = Job.objects.get(kind="attributes.rotate_keys")
    runner.run_queued()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.done, job.total) == (5, 5)
    new_id = sensitive.current_key_id()
    rows = list(Attribute.objects.order_by("pk"))
    assert all(row.value_ciphertext.startswith(f"{new_id}:") for row in rows)
    assert [sensitive.plain_value(row) for row in rows] == [f"secret-{n}" for n in range(5)]
    for row in rows:  # the old backup decrypts while the old key is in the list
        assert sensitive.decrypt(row.customer_id, "api_key", backup[row.pk]) == sensitive.plain_value(row)
    settings.ATTRIBUTE_ENCRYPTION_KEYS = [new_key]  # old key dropped: rotated rows still decrypt, the backup not
    assert [sensitive.plain_value(row) for row in rows] == [f"secret-{n}" for n in range(5)]
    with pytest.raises(sensitive.Undecryptable):
        sensitive.decrypt(rows[0].customer_id, "api_key", backup[rows[0].pk])


def test_a_value_no_configured_key_decrypts_reads_as_hidden_not_an_error(secret, api, settings):
    settings.ATTRIBUTE_ENCRYPTION_KEYS = [_key()]  # the key it was written with is gone

    response = api("view_customer_attribute", "view_sensitive_customer_attribute").get(
        f"/crm/attribute/attribute_id/{secret.pk}"
    )

    assert response.status_code == 200
    assert (response.json()["attribute_value"], response.json()["sensitive"]) == (None, True)
