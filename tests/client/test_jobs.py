"""Jobs through the client: start a rename or an import, wait with a progress callback, failures raise."""

import pytest
from crm_attributes_client import Conflict, JobFailed, NotFound, PermissionDenied

from attributes.models import Attribute
from jobs.models import Job as JobRow
from tests.factories import make_attribute, make_customer

RENAME_PERMS = ("manage_attribute_registry", "view_customer_attribute", "update_customer_attribute",
                "delete_customer_attribute")  # fmt: skip
IMPORT_PERMS = ("view_customer_attribute", "create_customer_attribute", "update_customer_attribute")


@pytest.fixture
def spellings():
    customers = [make_customer() for _ in range(5)]
    for customer in customers:
        make_attribute(customer, "billingmethod", "quarterly")
    return customers


def test_rename_waits_for_the_job_reporting_progress(crm, spellings, run_jobs, settings):
    settings.ATTRIBUTES_RENAME_CHUNK = 2  # three chunks for five customers
    client = crm(*RENAME_PERMS)
    seen = []

    with run_jobs():
        job = client.rename("billingmethod", "billing_method", progress=seen.append)

    assert job.status == "succeeded" and job.kind == "attributes.rename"
    assert (job.done, job.total) == (5, 5)
    assert seen[-1].status == "succeeded"
    done = [j.done for j in seen]
    assert done == sorted(done)  # progress never goes back
    assert set(Attribute.objects.values_list("attribute_name", flat=True)) == {"billing_method"}


def test_rename_preview_writes_nothing(crm, spellings):
    report = crm(*RENAME_PERMS).rename_preview("billingmethod", "billing_method")

    assert (report.renamed, report.merged, report.conflict_count) == (5, 0, 0)
    assert not JobRow.objects.exists()
    assert set(Attribute.objects.values_list("attribute_name", flat=True)) == {"billingmethod"}


def test_a_failed_job_raises_job_failed_with_its_report(crm, spellings, run_jobs):
    make_attribute(spellings[0], "billing_method", "monthly")  # both names, different values: a conflict
    client = crm(*RENAME_PERMS)

    with run_jobs(), pytest.raises(JobFailed) as raised:
        client.rename("billingmethod", "billing_method", wait=True)

    job = raised.value.job
    assert job.status == "failed" and job.error
    assert job.result["conflict_count"] == 1
    assert Attribute.objects.filter(attribute_name="billingmethod").count() == 5  # nothing written


def test_rename_needs_the_registry_permission(crm, spellings):
    with pytest.raises(PermissionDenied) as raised:
        crm("update_customer_attribute", "delete_customer_attribute").rename("billingmethod", "billing_method")
    assert "manage_attribute_registry" in str(raised.value)


def test_import_preview_then_import_with_wait(crm, run_jobs, settings):
    settings.ATTRIBUTES_IMPORT_CHUNK = 2
    customer = make_customer()
    make_attribute(customer, "support_tier", "basic")
    csv_text = (
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},support_tier,premium\n"
        f"{customer.pk},vlan_id,100\n"
        f"{customer.pk},ipv6_enabled,true\n"
    )
    client = crm(*IMPORT_PERMS)

    preview = client.import_preview(csv_text)
    assert (preview.created, preview.updated, preview.unchanged, preview.rejected) == (2, 1, 0, [])
    assert not JobRow.objects.exists()

    progress = []
    with run_jobs():
        job = client.import_csv(csv_text, progress=progress.append)

    assert job.status == "succeeded" and (job.done, job.total) == (3, 3)
    assert (job.result["created"], job.result["updated"]) == (2, 1)
    assert client.values(customer.pk) == {"ipv6_enabled": "true", "support_tier": "premium", "vlan_id": "100"}


def test_import_preview_lists_rejected_rows(crm):
    preview = crm(*IMPORT_PERMS).import_preview("customer_id,attribute_name,attribute_value\n999999999,a,1\n")
    assert [(r.line, r.field) for r in preview.rejected] == [(2, "customer_id")]


def test_jobs_list_cancel_and_cancel_after_the_end(crm, spellings):
    client = crm(*RENAME_PERMS)
    job = client.rename("billingmethod", "billing_method")  # no worker runs: it stays queued

    assert [j.job_id for j in client.jobs(status="queued")] == [job.job_id]
    cancelled = client.cancel_job(job.job_id)
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict):
        client.cancel_job(job.job_id)
    with pytest.raises(JobFailed):
        client.wait(job)


def test_another_users_job_is_not_found(crm, spellings):
    job = crm(*RENAME_PERMS).rename("billingmethod", "billing_method")
    with pytest.raises(NotFound):
        crm(*RENAME_PERMS).job(job.job_id)
