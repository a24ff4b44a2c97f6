"""The one-statement upsert (`attributes/services/fastwrite.py`) records exactly what the general path records.

On SQLite its history row and event come from per-connection TEMP triggers; these tests hold that they fire only for
the fast write, and that a write still records both if the triggers have gone (a table rebuilt by a migration drops
them with it)."""

import pytest
from django.db import connection

from attributes.models import Attribute
from attributes.services import attribute_upsert
from attributes.services.single import attribute_update
from events.models import Event
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as the fast path runs in production


def recorded(customer):
    history = list(
        Attribute.history.model.objects.filter(customer_id=customer.pk)
        .order_by("history_id")
        .values_list("history_type", "attribute_value", "previous_value", "operation", "actor_name")
    )
    events = list(
        Event.objects.filter(customer_id=customer.pk)
        .order_by("id")
        .values_list("type", "attribute_value", "previous_value", "actor_username")
    )
    return history, events


def test_create_then_update_records_one_history_row_and_one_event_each():
    customer, admin = make_customer(), make_user(is_superuser=True)

    attribute_upsert(customer=customer.pk, name="plan", value="basic", actor=admin)
    attribute_upsert(customer=customer.pk, name="plan", value="premium", actor=admin)
    attribute_upsert(customer=customer.pk, name="plan", value="premium", actor=admin)  # unchanged: nothing

    history, events = recorded(customer)
    name = admin.get_username()
    assert history == [("+", "basic", "", "create", name), ("~", "premium", "basic", "update", name)]
    assert events == [("attribute.created", "basic", "", name), ("attribute.updated", "premium", "basic", name)]
    stored = Attribute.objects.get(customer=customer, attribute_name="plan")
    row = Attribute.history.model.objects.filter(customer_id=customer.pk).latest("history_id")
    assert row.history_date == stored.last_modified  # one time for the row, its history and its event
    assert Event.objects.filter(customer_id=customer.pk).latest("id").occurred_at == stored.last_modified


def test_other_writes_on_the_same_connection_are_not_recorded_twice():
    """Once the triggers exist on a connection, an ORM write (the general path) still gets one history row."""
    customer, admin = make_customer(), make_user(is_superuser=True)
    attribute_upsert(customer=customer.pk, name="plan", value="basic", actor=admin)  # the triggers now exist

    attribute_update(attribute=Attribute.objects.get(customer=customer, attribute_name="plan"), value="gold",
                     actor=admin, if_match=None)  # fmt: skip
    Attribute.objects.filter(customer=customer).update(attribute_value="raw")  # no history by design

    history, events = recorded(customer)
    assert [row[:3] for row in history] == [("+", "basic", ""), ("~", "gold", "basic")]
    assert [row[:3] for row in events] == [("attribute.created", "basic", ""), ("attribute.updated", "gold", "basic")]


def test_a_write_after_the_triggers_are_gone_still_records_its_history_and_event():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL writes them in the statement's CTEs")
    customer, admin = make_customer(), make_user(is_superuser=True)
    attribute_upsert(customer=customer.pk, name="plan", value="basic", actor=admin)
    with connection.cursor() as cursor:  # what a table rebuild does to this connection's TEMP triggers
        cursor.execute("DROP TRIGGER temp.crm_fastwrite_created")
        cursor.execute("DROP TRIGGER temp.crm_fastwrite_updated")

    attribute_upsert(customer=customer.pk, name="plan", value="premium", actor=admin)
    attribute_upsert(customer=customer.pk, name="vlan_id", value="42", actor=admin)

    history, events = recorded(customer)
    assert [row[:3] for row in history] == [("+", "basic", ""), ("~", "premium", "basic"), ("+", "42", "")]
    assert [row[:3] for row in events] == [
        ("attribute.created", "basic", ""), ("attribute.updated", "premium", "basic"), ("attribute.created", "42", ""),
    ]  # fmt: skip
    with connection.cursor() as cursor:  # and they are back for the next write
        cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'trigger' ORDER BY name")
        assert [row[0] for row in cursor.fetchall()] == ["crm_fastwrite_created", "crm_fastwrite_updated"]
