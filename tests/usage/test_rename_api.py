"""POST /crm/attribute/rename: 200 dry run, 202 and a job, the Rename page's permissions, 400 for bad bodies."""

import pytest

from attributes.models import NameReservation
from jobs import runner
from jobs.models import Job

from .conftest import DELETE, REGISTRY, UPDATE, VIEW, snapshot, values

URL = "/crm/attribute/rename"
RENAMER = (VIEW, UPDATE, DELETE, REGISTRY)


def test_dry_run_answers_the_report_and_writes_nothing(api, dataset):
    before = snapshot()

    response = api(*RENAMER).post(
        URL, {"old_name": "billing_methods", "new_name": "billing_method", "dry_run": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "old_name": "billing_methods",
        "new_name": "billing_method",
        "renamed": 0,
        "merged": 0,
        "conflict_count": 1,
        "invalid_count": 0,
        "conflicts": [{"customer_id": dataset.c2.pk, "old_value": "card", "new_value": "invoice"}],
        "invalid": [],
    }
    assert snapshot() == before and not Job.objects.exists()


@pytest.mark.parametrize("url", [URL, URL + "/"])
def test_rename_answers_202_with_the_job_and_the_job_renames(api, dataset, url):
    response = api(*RENAMER).post(url, {"old_name": "tier", "new_name": "service_tier", "prefer": None}, format="json")

    job = Job.objects.get()
    assert response.status_code == 202
    assert response.json() == {"job_id": str(job.pk), "status": "queued", "url": f"/crm/job/{job.pk}"}
    assert response["Location"] == f"/crm/job/{job.pk}"
    assert job.params["channel"] == "api"
    runner.run_queued()
    assert values("service_tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}
    assert not NameReservation.objects.exists()


def test_a_second_rename_of_the_same_names_is_409_with_retry_after(api, dataset):
    client = api(*RENAMER)
    client.post(URL, {"old_name": "tier", "new_name": "service_tier"}, format="json")

    again = client.post(URL, {"old_name": "service_tier", "new_name": "level"}, format="json")

    assert (again.status_code, again["Retry-After"]) == (409, "5")
    assert "“service_tier” is being renamed" in again.json()["detail"]
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    "perms",
    [(VIEW, UPDATE, DELETE), (VIEW, UPDATE, REGISTRY), (VIEW, DELETE, REGISTRY)],
    ids=["registry", "delete", "update"],
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_rename_needs_update_delete_and_the_registry_permission(api, dataset, perms, dry_run):
    response = api(*perms).post(
        URL, {"old_name": "tier", "new_name": "service_tier", "dry_run": dry_run}, format="json"
    )

    assert response.status_code == 403
    assert not Job.objects.exists()


def test_rename_without_credentials_is_401(anon, dataset):
    assert anon.post(URL, {"old_name": "tier", "new_name": "service_tier"}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_name": "tier", "new_name": "service_tier", "extra": 1}, "extra"),
        ({"old_name": "tier"}, "new_name"),
        ({"old_name": 1, "new_name": "service_tier"}, "old_name"),
        ({"old_name": "tier", "new_name": "Service Tier"}, "new"),
        ({"old_name": "tier", "new_name": "tier"}, "new"),
        ({"old_name": "tier", "new_name": "service_tier", "prefer": "both"}, "prefer"),
        ({"old_name": "tier", "new_name": "service_tier", "dry_run": "yes"}, "dry_run"),
        ({"old_name": "tier", "new_name": "service_tier", "confirm": 3}, "confirm"),
        ([], "non_field_errors"),
    ],
)
def test_bad_bodies_are_400_naming_the_field_and_start_nothing(api, dataset, body, field):
    response = api(*RENAMER).post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Job.objects.exists()


def test_a_protected_name_needs_confirm(api, dataset):
    from attributes.models import AttributeDefinition

    AttributeDefinition.objects.filter(name="tier").update(protected=True)
    client = api(*RENAMER)

    refused = client.post(URL, {"old_name": "tier", "new_name": "service_tier"}, format="json")
    started = client.post(URL, {"old_name": "tier", "new_name": "service_tier", "confirm": "tier"}, format="json")

    assert refused.status_code == 400 and "confirm" in refused.json()
    assert started.status_code == 202
