"""/metrics: who may read it, and the series it shows (requests, queries, jobs, webhooks, events) with real values."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attributes import services
from events.models import Event
from events.services import events_sequence
from jobs import engine
from jobs.models import Job
from tests.factories import make_attribute
from webhooks.models import Delivery
from webhooks.services import fan_out

from .metrics_text import samples, value

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests-0123456789"
PERMS = ("view_customer", "view_customer_attribute", "create_customer_attribute", "update_customer_attribute")


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def test_metrics_are_not_found_when_neither_token_nor_addresses_are_set(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []

    response = client.get("/metrics", headers={"Authorization": "Bearer anything"})

    assert response.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_refuse_a_missing_or_wrong_token(client, token, header):
    response = client.get("/metrics", headers={"Authorization": header} if header else {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"crm_" not in response.content


def test_metrics_are_readable_from_an_allowed_address_without_a_token(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["127.0.0.1"]  # the test client's address

    assert client.get("/metrics").status_code == 200


def test_metrics_refuse_other_addresses(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["10.0.0.0/8"]

    assert client.get("/metrics").status_code == 401


def test_metrics_count_requests_by_route_and_status_with_latency_and_queries(client, token, api, customer):
    before = scrape(client)
    writer = api(*PERMS)
    body = {"customer_id": customer.pk, "attribute_name": "vlan_id", "attribute_value": "1"}
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            writer.put("/crm/attribute/", body, format="json")  # 201, then 200 twice
        writer.put("/crm/attribute/", {**body, "customer_id": 0}, format="json")  # 400
    ran = len(queries)  # now: the next request resets the connection's query log the capture reads from

    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    route = "attribute"  # the URL pattern's name
    assert delta("crm_http_requests_total", route=route, method="PUT", status="201") == 1
    assert delta("crm_http_requests_total", route=route, method="PUT", status="200") == 2
    assert delta("crm_http_requests_total", route=route, method="PUT", status="400") == 1
    assert delta("crm_http_request_duration_seconds_count", route=route, method="PUT") == 4
    assert delta("crm_http_request_duration_seconds_sum", route=route, method="PUT") > 0
    assert delta("crm_http_request_duration_seconds_bucket", route=route, status="201", le="10.0") == 1
    assert delta("crm_http_request_db_queries_count", route=route) == 4
    assert delta("crm_http_request_db_queries_sum", route=route) == ran > 0
    assert delta("crm_http_request_db_queries_bucket", route=route, le="0.0") == 0
    assert delta("crm_http_requests_total", route="<unmatched>", status="404") == 0
    client.get("/no/such/page/")
    assert value(scrape(client), "crm_http_requests_total", route="<unmatched>", status="404") >= 1


def test_metrics_show_the_job_queue_webhooks_and_events(client, token, customer, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    from webhooks.models import Webhook

    Webhook.objects.create(url="http://127.0.0.1:9/hook", event_types=["*"], secret="whsec_x", cursor=0)
    attribute = make_attribute(customer, "vlan_id", "1")
    services.attribute_update(attribute=attribute, name="vlan_id", value="2", actor=None)
    job = engine.start("events.maintain")
    Job.objects.filter(pk=job.pk).update(queued_at=job.queued_at.replace(year=job.queued_at.year - 1))
    events_sequence()
    fan_out()  # pending deliveries, not sent (no worker here)
    Event.objects.update(occurred_at=timezone.now() - timedelta(hours=1))

    found = scrape(client)

    assert value(found, "crm_jobs", status="queued") == Job.objects.filter(status="queued").count() == 1
    assert value(found, "crm_jobs", status="running") == 0
    assert value(found, "crm_jobs_oldest_due_age_seconds") > 364 * 86400
    assert value(found, "crm_webhook_deliveries", outcome="pending") == Delivery.objects.count() == 2
    assert value(found, "crm_webhook_deliveries", outcome="succeeded") == 0
    assert 3600 <= value(found, "crm_webhook_delivery_lag_seconds") < 3700
    assert value(found, "crm_events_written_total") == Event.objects.count() == 2
    Delivery.objects.update(status=Delivery.Status.SUCCEEDED)
    caught_up = scrape(client)
    assert value(caught_up, "crm_webhook_deliveries", outcome="succeeded") == 2
    assert value(caught_up, "crm_webhook_delivery_lag_seconds") == 0
