"""Marking a name in use sensitive encrypts its values (and scrubs history and events) as a job with progress;
unmarking decrypts them. Here at 3,000 values in chunks of 500; bench/sensitive.py measures 100,000."""

import pytest

from attributes import sensitive, services
from attributes.models import Attribute, AttributeDefinition, AttributeNameUsage
from customers.models import Customer
from events.models import Event
from jobs import runner
from jobs.models import Job

pytestmark = pytest.mark.django_db

N = 3000
REGISTRY = ("view_customer_attribute", "manage_attribute_registry")


@pytest.fixture
def tokens_in_use(settings):
    """N customers with a plain `vendor_token`, written through the bulk service (history and events too)."""
    settings.ATTRIBUTES_SENSITIVE_CHUNK = 500
    customers = Customer.objects.bulk_create([Customer(customer_name=f"C{n}") for n in range(N)])
    for start in range(0, N, 1000):
        items = [
            {"customer_id": c.pk, "attribute_name": "vendor_token", "attribute_value": f"tok-{c.pk}"}
            for c in customers[start : start + 1000]
        ]
        services.attribute_bulk_upsert(items=items, actor=None)
    services.usage_refresh()
    return customers


def _progress_seen(job: Job) -> list[tuple[int, int | None]]:
    seen = []
    runner.run_here(job, progress=lambda done, total: seen.append((done, total)))
    return seen


def test_marking_a_name_in_use_encrypts_its_values_as_a_job_with_progress(tokens_in_use, api):
    response = api(*REGISTRY).put("/crm/attribute/definition/vendor_token", {"sensitive": True}, format="json")

    assert response.status_code == 201
    job = Job.objects.get(pk=response.json()["job_id"])
    assert job.kind == "attributes.sensitivity" and job.status == Job.Status.QUEUED
    assert AttributeNameUsage.objects.get(name="vendor_token").top_values == []  # gone at once
    seen = _progress_seen(job)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.done == job.total == 3 * N  # attributes, their history rows, their events
    assert len(seen) >= 3 * N // 500 and seen == sorted(seen)
    assert not Attribute.objects.filter(attribute_name="vendor_token", value_ciphertext="").exists()
    assert all(sensitive.is_token(v) for v in Attribute.history.values_list("attribute_value", flat=True))
    assert all(sensitive.is_token(v) for v in Event.objects.values_list("attribute_value", flat=True))
    first = tokens_in_use[0]
    assert sensitive.plain_value(Attribute.objects.get(customer=first)) == f"tok-{first.pk}"
    found = api("view_customer_attribute").get(
        "/crm/attribute/", {"attribute_name": "vendor_token", "attribute_value": f"tok-{first.pk}"}
    )
    assert [(i["customer_id"], i["attribute_value"]) for i in found.json()] == [(first.pk, None)]


def test_unmarking_decrypts_the_values_as_a_job(tokens_in_use, api):
    definition = services.definition_create(actor=None, name="vendor_token", sensitive=True)
    runner.run_here(definition.job)

    response = api(*REGISTRY).put("/crm/attribute/definition/vendor_token", {"sensitive": False}, format="json")
    job = Job.objects.get(pk=response.json()["job_id"])
    seen = _progress_seen(job)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.done == job.total == N and seen[-1] == (N, N)
    assert not Attribute.objects.exclude(value_ciphertext="").exists()
    assert sorted(Attribute.objects.values_list("attribute_value", flat=True)) == sorted(
        f"tok-{c.pk}" for c in tokens_in_use
    )


def test_values_stay_masked_while_the_marking_job_has_not_reached_them(tokens_in_use, api):
    definition = services.definition_create(actor=None, name="vendor_token", sensitive=True)
    first = tokens_in_use[0]

    listed = api("view_customer_attribute").get(f"/crm/attribute/customer_id/{first.pk}").json()

    assert definition.job.status == Job.Status.QUEUED
    assert (listed[0]["attribute_value"], listed[0]["sensitive"]) == (None, True)


def test_a_sensitive_definition_cannot_be_deleted_or_renamed(api_key, api):
    client = api(*REGISTRY)

    deleted = client.delete("/crm/attribute/definition/api_key")
    assert deleted.status_code == 400 and "unmark" in deleted.json()["sensitive"][0]
    with pytest.raises(services.common.ValidationError):
        services.definition_update(definition=api_key, actor=None, name="api_token")
    assert AttributeDefinition.objects.filter(name="api_key", sensitive=True).exists()


def test_marking_an_unused_name_starts_no_job(api):
    response = api(*REGISTRY).put("/crm/attribute/definition/api_key", {"sensitive": True}, format="json")

    assert response.status_code == 201 and "job_id" not in response.json()
    assert not Job.objects.exists()


def test_renaming_a_sensitive_name_across_customers_is_refused(secret, api):
    client = api("update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")

    response = client.post("/crm/attribute/rename", {"old_name": "api_key", "new_name": "key"}, format="json")

    assert response.status_code == 400
    assert "sensitive" in str(response.json()) and "unmark" in str(response.json())


def test_an_import_file_with_sensitive_values_is_not_kept_after_its_job(api_key, customer, client):
    from attributes.services.imports import import_start

    job = import_start(
        text=f"customer_id,attribute_name,attribute_value\n{customer.pk},api_key,sk_imported_8Hq\n",
        filename="keys.csv",
        actor=None,
    )
    runner.run_here(job)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.payload == ""
    stored = Attribute.objects.get(customer=customer, attribute_name="api_key")
    assert sensitive.plain_value(stored) == "sk_imported_8Hq" and sensitive.is_token(stored.attribute_value)


def test_registry_page_marks_a_name_in_use_and_goes_to_the_job(tokens_in_use, client):
    client.force_login(make_user_registry())

    response = client.post(
        "/attributes/registry/new/", {"name": "vendor_token", "value_type": "text", "sensitive": "on"}
    )

    job = Job.objects.get(kind="attributes.sensitivity")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert AttributeDefinition.objects.get(name="vendor_token").sensitive


def test_registry_page_without_keys_says_which_setting_to_set(client, settings):
    settings.ATTRIBUTE_ENCRYPTION_KEYS, settings.ATTRIBUTE_INDEX_KEY = [], ""
    client.force_login(make_user_registry())

    response = client.post("/attributes/registry/new/", {"name": "api_key", "value_type": "text", "sensitive": "on"})

    assert response.status_code == 200
    assert "ATTRIBUTE_ENCRYPTION_KEYS" in response.content.decode()
    assert not AttributeDefinition.objects.exists()


def test_registry_page_refuses_to_delete_a_sensitive_definition(api_key, client):
    client.force_login(make_user_registry())

    response = client.post(f"/attributes/registry/{api_key.pk}/delete/", follow=True)

    assert "unmark it first" in response.content.decode()
    assert AttributeDefinition.objects.filter(pk=api_key.pk).exists()


def make_user_registry():
    from tests.factories import make_user

    return make_user(*REGISTRY)


def test_a_plain_write_that_lands_behind_the_job_is_caught_by_its_second_pass(tokens_in_use):
    definition = services.definition_create(actor=None, name="vendor_token", sensitive=True)
    first = Attribute.objects.filter(attribute_name="vendor_token").order_by("pk").first()
    late = []

    def progress(done, total):
        if not late:  # after the first chunk: a writer that read the registry before the flag changed
            Attribute.objects.filter(pk=first.pk).update(attribute_value="tok-late", value_ciphertext="")
            late.append(done)

    runner.run_here(definition.job, progress=progress)

    row = Attribute.objects.get(pk=first.pk)
    assert late and sensitive.is_token(row.attribute_value) and sensitive.plain_value(row) == "tok-late"
    assert not Attribute.objects.filter(attribute_name="vendor_token", value_ciphertext="").exists()
