"""The Jobs pages: the list, a job's page and its polling fragment, the Cancel button, and who sees what."""

import pytest
from django.test import Client

from jobs import engine, runner
from jobs.models import Job
from tests.factories import make_user
from tests.jobs import handlers  # noqa: F401 (registers tests.count)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def alice(client):
    user = make_user(username="alice")
    client.force_login(user)
    return user


def start(user, to=4, **params) -> Job:
    return engine.start("tests.count", params={"to": to, **params}, actor=user)


def test_pages_need_sign_in(client):
    job = start(make_user())
    for path in ("/jobs/", f"/jobs/{job.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_the_navbar_links_to_jobs_for_signed_in_users(client, alice):
    page = client.get("/account/tokens/").content.decode()
    assert 'href="/jobs/">Jobs</a>' in page


def test_the_list_shows_the_users_jobs_with_status_progress_and_cancel(client, alice):
    finished = start(alice)
    runner.run_queued()
    queued = start(alice, to=10)
    start(make_user(username="bob"))
    page = client.get("/jobs/").content.decode()
    assert page.count('href="/jobs/') == 2 + 1  # the two jobs and the navbar
    assert f'href="/jobs/{finished.pk}/"' in page and f'href="/jobs/{queued.pk}/"' in page
    assert 'data-status="succeeded"' in page and 'data-status="queued"' in page
    assert 'role="progressbar"' in page and 'aria-valuenow="100"' in page
    assert f'action="/jobs/{queued.pk}/cancel/"' in page  # only the active one has a Cancel button
    assert f'action="/jobs/{finished.pk}/cancel/"' not in page
    assert "bob" not in page
    assert 'hx-trigger="every 2s"' in page  # a job is active: the table refreshes itself


def test_the_list_stops_refreshing_when_no_job_is_active(client, alice):
    start(alice)
    runner.run_queued()
    assert "hx-trigger" not in client.get("/jobs/").content.decode()


def test_view_all_jobs_lists_everyones_jobs_with_who_started_them(client):
    bobs = start(make_user(username="bob"))
    client.force_login(make_user("view_all_jobs"))
    page = client.get("/jobs/").content.decode()
    assert f'href="/jobs/{bobs.pk}/"' in page and "bob" in page


def test_the_list_costs_the_same_queries_for_many_jobs(client, alice, django_assert_max_num_queries):
    for _ in range(25):
        start(alice)
    with django_assert_max_num_queries(10):
        assert client.get("/jobs/").status_code == 200


def test_the_job_page_shows_a_running_job_and_polls(client, alice):
    job = start(alice, to=10)
    runner.claim(str(job.pk), "worker-x")
    Job.objects.filter(pk=job.pk).update(done=4, total=10)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-status="running"' in page
    assert 'aria-valuenow="40"' in page and "pct-40" in page and "4 of 10" in page
    assert f'hx-get="/jobs/{job.pk}/"' in page and 'hx-trigger="every 1s"' in page
    assert "style=" not in page  # the width is a class: the strict CSP refuses style attributes


def test_the_fragment_is_the_status_part_alone_and_stops_polling_when_done(client, alice):
    job = start(alice)
    running = client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()
    assert running.lstrip().startswith('<div id="job-status"')
    assert "<html" not in running and 'hx-trigger="every 1s"' in running
    runner.run_queued()
    finished = client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()
    assert 'data-status="succeeded"' in finished and 'aria-valuenow="100"' in finished
    assert "hx-trigger" not in finished and "hx-get" not in finished  # the polling ends here
    assert "job-result-json" in finished and "&quot;counted&quot;: 4" in finished  # no result template: JSON


def test_a_flat_result_is_a_list_of_values_and_a_nested_one_json(client, alice):
    job = start(alice)
    runner.run_queued()
    Job.objects.filter(pk=job.pk).update(result={"renamed": 12, "merged": 0})
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert '<dt class="col-sm-3">Renamed</dt><dd class="col-sm-9">12</dd>' in page
    Job.objects.filter(pk=job.pk).update(result={"conflicts": [{"customer_id": 1}]})
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "job-result-json" in page and "&quot;customer_id&quot;: 1" in page


def test_a_kinds_result_template_shows_the_result(client, alice, tmp_path, settings):
    (tmp_path / "jobs_test").mkdir()
    (tmp_path / "jobs_test" / "_result.html").write_text('<p id="kind-result">Counted {{ job.result.counted }}</p>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    engine.handler("tests.templated", label="Templated count", result_template="jobs_test/_result.html")(handlers.count)
    job = engine.start("tests.templated", params={"to": 2}, actor=alice)
    runner.run_queued()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert '<p id="kind-result">Counted 2</p>' in page
    assert '<h1 class="h3 mb-3">Templated count</h1>' in page


def test_a_failed_job_shows_its_error(client, alice):
    job = engine.start("tests.refuse", actor=alice)
    runner.run_queued()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-status="failed"' in page and "Nothing to do here." in page


def test_another_users_job_page_is_a_404(client, alice):
    job = start(make_user(username="bob"))
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/", headers=HTMX).status_code == 404
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 404
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_view_all_jobs_opens_and_cancels_anyones_job(client):
    job = start(make_user(username="bob"))
    client.force_login(make_user("view_all_jobs"))
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
    client.post(f"/jobs/{job.pk}/cancel/")
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_cancel_button_cancels_and_returns_to_the_page_it_was_on(client, alice):
    job = start(alice)
    response = client.post(f"/jobs/{job.pk}/cancel/", {"next": "/jobs/"})
    assert (response.status_code, response["Location"]) == (302, "/jobs/")
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED
    page = client.get("/jobs/").content.decode()
    assert "cancelled before it started" in page


def test_cancel_of_a_running_job_says_it_is_stopping(client, alice):
    job = start(alice, to=10)
    runner.claim(str(job.pk), "worker-x")
    response = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == f"/jobs/{job.pk}/"
    page = response.content.decode()
    assert "Cancelling" in page and "(cancelling)" in page
    assert f'action="/jobs/{job.pk}/cancel/"' not in page  # no second Cancel


def test_cancel_never_redirects_off_site(client, alice):
    job = start(alice)
    response = client.post(f"/jobs/{job.pk}/cancel/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/jobs/{job.pk}/"


def test_cancel_of_a_finished_job_says_so_and_changes_nothing(client, alice):
    job = start(alice)
    runner.run_queued()
    page = client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()
    assert "already finished (succeeded)" in page
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_cancel_needs_the_csrf_token(alice):
    job = start(alice)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/jobs/{job.pk}/cancel/").status_code == 403
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_cancel_takes_only_post(client, alice):
    job = start(alice)
    assert client.get(f"/jobs/{job.pk}/cancel/").status_code == 405


def test_admin_lists_jobs_read_only(admin_client_, admin_user):
    job = start(admin_user)
    page = admin_client_.get("/admin/jobs/job/").content.decode()
    assert "tests.count" in page and "0/?" in page
    assert admin_client_.get("/admin/jobs/job/add/").status_code == 403
    change = admin_client_.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert 'name="_save"' not in change  # view only


def test_admin_job_page_shows_the_start_of_a_large_payload(admin_client_, admin_user):
    """An import's payload is its whole CSV (up to 5 MB): the admin page shows its first characters and its size."""
    job = start(admin_user)
    rows = "".join(f"{n},billing_method,monthly\n" for n in range(200_000))
    Job.objects.filter(pk=job.pk).update(payload="customer_id,attribute_name,attribute_value\n" + rows)

    response = admin_client_.get(f"/admin/jobs/job/{job.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "customer_id,attribute_name,attribute_value" in page
    assert "the first 2,000 characters of" in page
    assert "199999,billing_method" not in page
    assert len(response.content) < 200_000


def test_admin_job_page_shows_a_small_payload_whole(admin_client_, admin_user):
    job = start(admin_user)
    Job.objects.filter(pk=job.pk).update(payload="customer_id,attribute_name,attribute_value\n1,a,b\n")

    page = admin_client_.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()

    assert "1,a,b" in page
    assert "characters of" not in page
