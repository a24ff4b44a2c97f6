"""`GET /crm/event/`: the change feed, its cursor, filters, permission and retention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from attributes import services
from events.models import Event, Sequencer
from events.services import events_prune, events_sequence, retention_cutoff
from jobs import runner
from tests.factories import make_attribute, make_customer

pytestmark = pytest.mark.django_db
VIEW = "view_customer_attribute"


@pytest.fixture
def reader(api):
    return api(VIEW)


def test_feed_requires_view_permission(api, anon, customer):
    make_attribute(customer, "vlan_id", "1")

    assert anon.get("/crm/event/").status_code == 401
    response = api("create_customer_attribute").get("/crm/event/")
    assert response.status_code == 403
    assert "view_customer_attribute" in response.json()["detail"]


def test_feed_returns_events_in_sequence_order_with_a_cursor(reader, customer):
    attribute = make_attribute(customer, "vlan_id", "1")
    services.attribute_update(attribute=attribute, name="vlan_id", value="2", actor=None)
    make_attribute(customer, "plan", "a")

    first = reader.get("/crm/event/?limit=2").json()
    rest = reader.get(f"/crm/event/?after={first['next']}").json()
    empty = reader.get(f"/crm/event/?after={rest['next']}").json()

    events = first["events"] + rest["events"]
    assert [(e["type"], e["data"]["attribute_name"], e["data"]["attribute_value"]) for e in events] == [
        ("attribute.created", "vlan_id", "1"),
        ("attribute.updated", "vlan_id", "2"),
        ("attribute.created", "plan", "a"),
    ]
    assert [e["sequence"] for e in events] == [1, 2, 3]
    assert (first["next"], rest["next"], empty) == (2, 3, {"events": [], "next": 3})
    assert events[1]["data"] == {
        "attribute_id": attribute.pk,
        "attribute_name": "vlan_id",
        "attribute_value": "2",
        "previous_name": "",
        "previous_value": "1",
    }
    assert events[1]["actor"] == {"username": "", "channel": "system", "token_name": ""}
    assert set(events[0]) == {
        "event_id", "type", "sequence", "occurred_at", "customer_id", "data", "actor", "batch_id", "request_id",
    }  # fmt: skip


def test_feed_filters_by_customer_type_and_name(reader):
    first, second = make_customer(), make_customer()
    a = make_attribute(first, "vlan_id", "1")
    make_attribute(second, "vlan_id", "1")
    services.attribute_delete(attribute=a, actor=None)

    def seen(query: str) -> list[tuple]:
        body = reader.get(f"/crm/event/?{query}").json()
        return [(e["customer_id"], e["type"]) for e in body["events"]]

    assert seen(f"customer_id={first.pk}") == [(first.pk, "attribute.created"), (first.pk, "attribute.deleted")]
    assert seen("type=attribute.deleted") == [(first.pk, "attribute.deleted")]
    assert seen("attribute_name=vlan_id&type=attribute.created") == [
        (first.pk, "attribute.created"),
        (second.pk, "attribute.created"),
    ]
    assert seen("attribute_name=other") == []


@pytest.mark.parametrize(
    "query",
    ["after=-1", "after=x", "limit=0", "limit=1001", "type=attribute.moved", "customer_id=abc", "colour=red"],
)
def test_feed_refuses_bad_parameters_with_400(reader, query):
    response = reader.get(f"/crm/event/?{query}")

    assert response.status_code == 400
    assert response.json()


def test_limit_of_1000_is_allowed(reader, customer):
    make_attribute(customer, "vlan_id", "1")

    assert len(reader.get("/crm/event/?limit=1000").json()["events"]) == 1


def test_unnumbered_events_are_numbered_above_every_number_given_before(customer):
    make_attribute(customer, "a", "1")
    events_sequence()
    Event.objects.all().delete()  # everything pruned: numbers still never go back
    make_attribute(customer, "b", "1")

    assert events_sequence() == 1
    assert list(Event.objects.values_list("sequence", flat=True)) == [2]
    assert Sequencer.objects.get().last == 2


def test_prune_deletes_events_past_retention_in_batches(customer, settings):
    settings.EVENT_RETENTION_DAYS = 30
    for name in ("a", "b", "c"):
        make_attribute(customer, name, "1")
    events_sequence()
    Event.objects.filter(attribute_name__in=["a", "b"]).update(occurred_at=timezone.now() - timedelta(days=31))

    deleted = events_prune(older_than=retention_cutoff(), batch=1)

    assert deleted == 2
    assert list(Event.objects.values_list("attribute_name", flat=True)) == ["c"]


def test_the_periodic_upkeep_job_numbers_and_prunes(customer):
    make_attribute(customer, "a", "1")
    Event.objects.update(occurred_at=timezone.now() - timedelta(days=365))
    make_attribute(customer, "b", "1")

    jobs = [job for job in runner.start_periodic() if job.kind == "events.maintain"]
    runner.run(str(jobs[0].pk))

    jobs[0].refresh_from_db()
    assert jobs[0].result == {"numbered": 2, "pruned": 1}
    assert list(Event.objects.values_list("attribute_name", "sequence")) == [("b", 2)]
