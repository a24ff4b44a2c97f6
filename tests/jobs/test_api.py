"""`/crm/job/…`: one's own jobs (everyone's with view_all_jobs), others' are a 404, cancel and its 409, paging,
filters, bad ids, and the schema. Jobs run in-process (`runner.run_queued`): no worker is needed here."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm_project.api import DATETIME_FORMAT
from jobs import engine, runner
from jobs.models import Job
from tests.factories import bearer_client, make_user
from tests.jobs import handlers  # noqa: F401 (registers tests.count)

pytestmark = pytest.mark.django_db
VIEW_ALL = "view_all_jobs"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture
def alice():
    return make_user(username="alice")


@pytest.fixture
def bob():
    return make_user(username="bob")


def start(user, to=4, **params) -> Job:
    return engine.start("tests.count", params={"to": to, **params}, actor=user)


def test_get_job_answers_its_status_progress_and_timestamps(alice):
    job = start(alice)
    api = bearer_client(alice)

    queued = api.get(f"/crm/job/{job.pk}")
    assert queued.status_code == 200
    assert queued.json() == {
        "job_id": str(job.pk),
        "kind": "tests.count",
        "status": "queued",
        "progress": {"done": 0, "total": None},
        "result": None,
        "error": None,
        "created": timezone.localtime(job.created).strftime(DATETIME_FORMAT),
        "started": None,
        "finished": None,
    }

    runner.run_queued()
    done = api.get(f"/crm/job/{job.pk}/").json()  # with or without the trailing slash
    assert (done["status"], done["progress"]) == ("succeeded", {"done": 4, "total": 4})
    assert done["result"] == {"counted": 4, "chunks": [2, 4]}
    assert TIMESTAMP.match(done["started"]) and TIMESTAMP.match(done["finished"])


def test_a_failed_job_reports_its_error(alice):
    job = engine.start("tests.refuse", actor=alice)
    runner.run_queued()
    body = bearer_client(alice).get(f"/crm/job/{job.pk}").json()
    assert (body["status"], body["error"], body["result"]) == ("failed", "Nothing to do here.", {"why": "test"})


def test_another_users_job_is_a_404_like_a_missing_one(alice, bob):
    job = start(alice)
    api = bearer_client(bob)
    other = api.get(f"/crm/job/{job.pk}")
    missing = api.get("/crm/job/00000000-0000-0000-0000-000000000000")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert api.post(f"/crm/job/{job.pk}/cancel").status_code == 404
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED  # nothing changed
    assert api.get("/crm/job/").json() == []


def test_view_all_jobs_sees_and_cancels_everyones_jobs(alice, bob):
    job = start(alice)
    auditor = bearer_client(make_user(VIEW_ALL))
    assert auditor.get(f"/crm/job/{job.pk}").status_code == 200
    assert [j["job_id"] for j in auditor.get("/crm/job/").json()] == [str(job.pk)]
    assert auditor.post(f"/crm/job/{job.pk}/cancel").json()["status"] == "cancelled"


@pytest.mark.parametrize("job_id", ["nope", "123", "00000000-0000-0000-0000-00000000000g", "9" * 40, "%00", "ä"])
def test_a_job_id_that_is_not_a_uuid_is_a_json_404(alice, job_id):
    api = bearer_client(alice)
    for response in (api.get(f"/crm/job/{job_id}"), api.post(f"/crm/job/{job_id}/cancel")):
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json()


def test_anonymous_gets_401(alice, anon):
    job = start(alice)
    assert anon.get("/crm/job/").status_code == 401
    assert anon.get(f"/crm/job/{job.pk}").status_code == 401
    assert anon.post(f"/crm/job/{job.pk}/cancel").status_code == 401


def test_session_authenticated_api_works_and_cancel_needs_csrf(alice, client):
    from django.test import Client

    job = start(alice)
    client.force_login(alice)
    assert client.get(f"/crm/job/{job.pk}").status_code == 200
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/crm/job/{job.pk}/cancel").status_code == 403
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_cancel_a_queued_job_cancels_it_at_once(alice):
    job = start(alice)
    response = bearer_client(alice).post(f"/crm/job/{job.pk}/cancel")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["finished"] is not None) == ("cancelled", True)
    assert runner.run_queued() == []  # nothing left to run


def test_cancel_a_running_job_stops_it_at_the_next_chunk(alice):
    job = start(alice, to=10)
    runner.claim(str(job.pk), "worker-x")  # a worker holds it, between two chunks
    response = bearer_client(alice).post(f"/crm/job/{job.pk}/cancel/")
    assert (response.status_code, response.json()["status"]) == (200, "running")
    assert Job.objects.get(pk=job.pk).cancel_requested


def test_cancel_a_finished_job_is_a_409_and_changes_nothing(alice):
    job = start(alice)
    runner.run_queued()
    before = Job.objects.filter(pk=job.pk).values().get()
    response = bearer_client(alice).post(f"/crm/job/{job.pk}/cancel")
    assert response.status_code == 409
    assert response.json()["detail"] == "The job has already finished (succeeded); there is nothing to cancel."
    assert response.json()["job"]["status"] == "succeeded"
    assert Job.objects.filter(pk=job.pk).values().get() == before


def test_cancel_takes_no_get(alice):
    job = start(alice)
    assert bearer_client(alice).get(f"/crm/job/{job.pk}/cancel").status_code == 405


def test_list_is_the_callers_jobs_newest_first(alice, bob):
    mine = [start(alice) for _ in range(3)]
    start(bob)
    body = bearer_client(alice).get("/crm/job/").json()
    assert [j["job_id"] for j in body] == [str(j.pk) for j in reversed(mine)]


def test_list_is_paged_with_link_and_total(alice):
    jobs = [start(alice) for _ in range(5)]
    api = bearer_client(alice)
    first = api.get("/crm/job/", {"limit": 2})
    assert first["X-Total-Count"] == "5"
    assert 'rel="next"' in first["Link"]
    assert [j["job_id"] for j in first.json()] == [str(j.pk) for j in reversed(jobs)][:2]
    last = api.get("/crm/job/", {"limit": 2, "offset": 4})
    assert [j["job_id"] for j in last.json()] == [str(jobs[0].pk)]
    assert api.get("/crm/job/", {"limit": 0}).status_code == 400
    assert api.get("/crm/job/", {"offset": "-1"}).status_code == 400


def test_list_filters_by_status_and_kind(alice):
    done = start(alice)
    runner.run_queued()
    queued = start(alice)
    refused = engine.start("tests.refuse", actor=alice)
    api = bearer_client(alice)
    assert [j["job_id"] for j in api.get("/crm/job/", {"status": "succeeded"}).json()] == [str(done.pk)]
    assert {j["job_id"] for j in api.get("/crm/job/", {"status": "queued"}).json()} == {str(queued.pk), str(refused.pk)}
    assert [j["job_id"] for j in api.get("/crm/job/", {"kind": "tests.refuse"}).json()] == [str(refused.pk)]
    assert api.get("/crm/job/", {"kind": "tests.count", "status": "failed"}).json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("status=queued&status=running", "status"),
        ("kind=", "kind"),
        ("kind=" + "x" * 65, "kind"),
        ("owner=alice", "owner"),
        ("Status=queued", "Status"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_them(alice, query, field):
    response = bearer_client(alice).get(f"/crm/job/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_list_costs_the_same_queries_for_many_jobs(alice, django_assert_max_num_queries):
    for _ in range(30):
        start(alice)
    api = bearer_client(alice)
    with django_assert_max_num_queries(8):
        assert len(api.get("/crm/job/").json()) == 30


def test_the_job_endpoints_are_in_the_openapi_schema(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/crm/job/"]) == {"get"}
    assert set(paths["/crm/job/{job_id}"]) == {"get"}
    cancel = next(item for path, item in paths.items() if path.rstrip("/") == "/crm/job/{job_id}/cancel")
    assert {"200", "404", "409"} <= set(cancel["post"]["responses"])
    job = schema["components"]["schemas"]["Job"]
    assert set(job["properties"]) == {
        "job_id",
        "kind",
        "status",
        "progress",
        "result",
        "error",
        "created",
        "started",
        "finished",
    }
    parameters = {p["name"] for p in paths["/crm/job/"]["get"]["parameters"]}
    assert {"status", "kind", "limit", "offset"} <= parameters


def test_the_202_answer_points_at_the_job_endpoint(alice):
    from jobs.api import accepted

    job = start(alice)
    response = accepted(job)
    assert response.status_code == 202
    assert response["Location"] == f"/crm/job/{job.pk}"
    assert bearer_client(alice).get(response["Location"]).json()["job_id"] == str(job.pk)
