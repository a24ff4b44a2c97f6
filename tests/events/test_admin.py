"""The events admin on a table of millions: newest first, capped paging, and searches that an index serves."""

import re

import pytest

from events import admin as events_admin
from events.models import Event
from tests.factories import make_attribute, make_customer

from .conftest import feed_events

pytestmark = pytest.mark.django_db


def sequences(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<th class="field-sequence"><a href="[^"]*">(\d+)</a></th>', page)]


@pytest.fixture
def events():
    first, second = make_customer(), make_customer()
    make_attribute(first, "billing_method", "monthly")
    make_attribute(second, "support_tier", "gold")
    make_attribute(first, "support_tier", "silver")
    return first, second, feed_events()


def test_the_list_is_newest_first(admin_client_, events):
    page = admin_client_.get("/admin/events/event/").content.decode()

    found = sequences(page)
    assert found == sorted((e.sequence for e in events[2]), reverse=True)


def test_a_number_finds_that_customers_events_and_that_sequence(admin_client_, events):
    first, second, all_events = events

    found = sequences(admin_client_.get(f"/admin/events/event/?q={second.pk}").content.decode())

    # The second customer's events, and the event numbered like the customer's id, newest first.
    expected = {e.sequence for e in all_events if e.customer_id == second.pk or e.sequence == second.pk}
    assert found == sorted(expected, reverse=True)
    assert {e.sequence for e in all_events if e.customer_id == second.pk} <= set(found)
    assert not {e.sequence for e in all_events if e.customer_id == first.pk} - {second.pk} & set(found)


def test_a_name_finds_its_events_among_the_newest(admin_client_, events, monkeypatch):
    all_events = events[2]
    tiers = sorted((e.sequence for e in all_events if e.attribute_name == "support_tier"), reverse=True)

    page = admin_client_.get("/admin/events/event/?q=support_tier").content.decode()
    assert sequences(page) == tiers

    # Past the window, older events are not searched: the newest one only, with a window of one.
    monkeypatch.setattr(events_admin, "NAME_SEARCH_WINDOW", 1)
    page = admin_client_.get("/admin/events/event/?q=support_tier").content.decode()
    assert sequences(page) == tiers[:1]
    assert admin_client_.get("/admin/events/event/?q=no_such_name").status_code == 200


def test_paging_is_capped(admin_client_, events, monkeypatch):
    monkeypatch.setattr(events_admin.EventAdmin, "list_per_page", 1)

    response = admin_client_.get("/admin/events/event/?p=2")

    assert response.status_code == 200
    assert len(sequences(response.content.decode())) == 1
    assert Event.objects.count() == 3


def test_the_channel_filter_offers_every_channel_without_reading_the_events(admin_client_, events):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = admin_client_.get("/admin/events/event/").content.decode()

    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    for channel in ("api", "ui", "admin", "cli", "seed", "system"):
        assert f"?channel={channel}" in page
    assert sequences(admin_client_.get("/admin/events/event/?channel=api").content.decode()) == []
    assert len(sequences(admin_client_.get("/admin/events/event/?channel=system").content.decode())) == 3
