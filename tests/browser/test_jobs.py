"""A job's page in a real browser, with a real worker process: the progress bar fills and the page ends on
"succeeded" without a reload (htmx polling under the strict CSP), and the Jobs list's Cancel button.

The live server (a thread of this process) and the worker (another process) share the test database, so the
test is transactional: what it writes is committed and both see it.
"""

import time

import pytest
from playwright.sync_api import Page, expect

from jobs import engine
from jobs.models import Job
from tests.factories import make_user
from tests.jobs import handlers  # noqa: F401 (registers tests.count in this process: the live server's)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXTRA = {"JOBS_EXTRA_MODULES": "tests.jobs.handlers"}


def test_the_progress_bar_fills_as_a_worker_runs_the_job_and_ends_in_the_result(page: Page, sign_in, workers):
    user = sign_in(make_user(username="operator"))
    job = engine.start("tests.count", params={"to": 10, "sleep": 0.4}, actor=user)

    page.goto(f"/jobs/{job.pk}/")
    bar = page.get_by_role("progressbar", name="Progress of tests.count")
    status = page.locator("#job-status .job-status")
    expect(status).to_have_text("queued")
    expect(bar).not_to_have_attribute("aria-valuenow", "100")
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded

    workers.start("browser-worker", **EXTRA)
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = bar.get_attribute("aria-valuenow")
        if value is not None and (not seen or seen[-1] != int(value)):
            seen.append(int(value))
        if value == "100":
            break
        page.wait_for_timeout(100)
    assert seen and seen[-1] == 100, (seen, workers.logs())
    assert any(0 < value < 100 for value in seen), seen  # it moved through the middle, not straight to the end
    assert seen == sorted(seen), seen

    expect(status).to_have_text("succeeded")
    expect(page.locator("#job-status .progress-bar")).to_have_class("progress-bar pct-100 bg-success")
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    expect(page.locator("#job-status")).not_to_have_attribute("hx-trigger", "every 1s")  # the polling stopped
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_cancel_from_the_jobs_list(page: Page, sign_in):
    user = sign_in(make_user(username="operator"))
    job = engine.start("tests.count", params={"to": 10}, actor=user)  # no worker: it waits in the queue

    page.goto("/account/tokens/")  # any page: the navbar leads to Jobs
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="tests.count"))
    expect(row.locator(".job-status")).to_have_text("queued")
    row.get_by_role("button", name="Cancel").click()

    expect(page.locator("#messages .alert-success")).to_contain_text("cancelled before it started")
    expect(row.locator(".job-status")).to_have_text("cancelled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED
