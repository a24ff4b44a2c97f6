"""Request ids: made here or taken from a trusted proxy, returned on every response, and found again on the request's
log line, its history rows, its change events, the jobs it started and the webhooks that delivered those events."""

import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest

from attributes.models import Attribute
from crm_project import requestid
from events.models import Event
from jobs import runner
from jobs.models import Job
from tests.factories import make_attribute
from tests.webhooks.receiver import Receiver
from tests.workers import PROJECT_DIR, database_url
from webhooks.services import dispatch_once

pytestmark = pytest.mark.django_db
PERMS = ("view_customer", "view_customer_attribute", "create_customer_attribute", "update_customer_attribute")
GIVEN = "lb-7f3a9c2e-0001"


@pytest.fixture
def trusted_proxy(settings):
    settings.REQUEST_ID_TRUSTED_PROXIES = ["127.0.0.0/8"]  # the test client's REMOTE_ADDR is 127.0.0.1


@pytest.fixture
def json_log():
    """The JSON lines the configured formatter and filter write for `crm.request`, as LOG_FORMAT=json does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(requestid.RequestIdFilter())
    handler.setFormatter(requestid.JsonFormatter())
    logger = logging.getLogger("crm.request")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def put(client, customer, value, **headers):
    body = {"customer_id": customer.pk, "attribute_name": "vlan_id", "attribute_value": value}
    return client.put("/crm/attribute/", body, format="json", headers=headers)


def test_every_response_has_a_new_request_id(client, api, customer):
    page = client.get("/accounts/login/")
    missing = client.get("/no/such/page/")
    unauthenticated = client.get("/crm/attribute/customer_id/1/")
    written = put(api(*PERMS), customer, "1")

    ids = [r["X-Request-ID"] for r in (page, missing, unauthenticated, written)]
    assert (page.status_code, missing.status_code, unauthenticated.status_code, written.status_code) == (
        200, 404, 401, 201,
    )  # fmt: skip
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == 4


def test_an_untrusted_clients_request_id_is_replaced(api, customer):
    response = put(api(*PERMS), customer, "1", X_REQUEST_ID=GIVEN)

    assert response.status_code == 201
    assert response["X-Request-ID"] != GIVEN
    assert Attribute.history.get().request_id == response["X-Request-ID"]


@pytest.mark.parametrize("bad", ["has space", "x" * 65, 'quote"d', "ümlaut"])
def test_a_malformed_request_id_from_a_trusted_proxy_is_replaced(api, customer, trusted_proxy, bad):
    response = put(api(*PERMS), customer, "1", X_REQUEST_ID=bad)

    assert response.status_code == 201
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize("value", ["first", "second"])  # the one-statement create, then the update path
def test_a_proxys_request_id_reaches_the_log_line_the_history_row_and_the_event(
    api, customer, trusted_proxy, json_log, value
):
    client = api(*PERMS)
    if value == "second":
        put(client, customer, "first", X_REQUEST_ID="earlier-request")

    response = put(client, customer, value, X_REQUEST_ID=GIVEN)

    assert response.status_code in (200, 201)
    assert response["X-Request-ID"] == GIVEN
    history = Attribute.history.filter(attribute_value=value).get()
    event = Event.objects.get(attribute_value=value)
    assert (history.request_id, event.request_id) == (GIVEN, GIVEN)
    [line] = [line for line in json_log() if line["request_id"] == GIVEN]
    assert line["logger"] == "crm.request" and line["level"] == "INFO"
    assert line["message"].startswith("PUT /crm/attribute/ 20")


def test_bulk_writes_carry_the_request_id(api, customer, trusted_proxy):
    body = [{"customer_id": customer.pk, "attribute_name": f"n{i}", "attribute_value": str(i)} for i in range(3)]

    response = api(*PERMS).put("/crm/attribute/bulk/", body, format="json", headers={"X-Request-ID": GIVEN})

    assert response.status_code in (200, 201), response.content
    assert set(Attribute.history.values_list("request_id", flat=True)) == {GIVEN}
    assert set(Event.objects.values_list("request_id", flat=True)) == {GIVEN}


def test_a_job_carries_the_request_id_that_started_it_to_its_history_and_events(api, customer, trusted_proxy):
    make_attribute(customer, "tier", "gold")
    renamer = api(*PERMS, "delete_customer_attribute", "manage_attribute_registry")

    response = renamer.post(
        "/crm/attribute/rename", {"old_name": "tier", "new_name": "level"}, format="json",
        headers={"X-Request-ID": GIVEN},
    )  # fmt: skip
    assert response.status_code == 202, response.content
    assert Job.objects.get().request_id == GIVEN
    runner.run_queued()

    assert Job.objects.get().status == Job.Status.SUCCEEDED
    assert Attribute.history.get(attribute_name="level").request_id == GIVEN
    assert Event.objects.get(type=Event.Type.RENAMED).request_id == GIVEN


def test_a_webhook_receiver_gets_the_request_id_of_the_write(api, customer, trusted_proxy, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    receiver = Receiver()
    try:
        manager = api("manage_webhooks")
        hook = manager.post("/crm/webhook/", {"url": receiver.url, "event_types": ["*"]}, format="json").json()
        receiver.secrets.append(hook["secret"])
        assert put(api(*PERMS), customer, "1", X_REQUEST_ID=GIVEN).status_code == 201

        dispatch_once()

        [message] = receiver.accepted()
        assert message.headers["x-request-id"] == GIVEN
        assert message.body["data"]["request_id"] == GIVEN
        assert Event.objects.get(event_id=message.message_id).request_id == GIVEN
    finally:
        receiver.close()


@pytest.mark.django_db(transaction=True)
def test_a_workers_log_lines_for_a_job_carry_the_request_id_that_started_it(api, customer, settings):
    settings.REQUEST_ID_TRUSTED_PROXIES = ["127.0.0.0/8"]
    make_attribute(customer, "tier", "gold")
    renamer = api(*PERMS, "delete_customer_attribute", "manage_attribute_registry")
    started = renamer.post(
        "/crm/attribute/rename", {"old_name": "tier", "new_name": "level"}, format="json",
        headers={"X-Request-ID": GIVEN},
    )  # fmt: skip
    assert started.status_code == 202
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings", "DEBUG": "true", "DATABASE_URL": database_url(),
        "LOG_FORMAT": "json",
    }  # fmt: skip

    result = subprocess.run(
        [sys.executable, "manage.py", "run_worker", "--batch", "-v", "1"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    job_id = started.json()["job_id"]
    about_the_job = [line for line in lines if job_id in line["message"]]
    assert about_the_job, result.stdout
    assert {line["request_id"] for line in about_the_job} == {GIVEN}
    assert Job.objects.get().status == Job.Status.SUCCEEDED
