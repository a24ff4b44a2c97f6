"""Cases run with a read replica configured (DATABASE_REPLICA_URLS; the replica alias mirrors the test database):
`test_replicas.py` runs this module in a child pytest, since the databases are fixed when settings load.

A query is seen on the alias that ran it (Django's CaptureQueriesContext per connection): lag-tolerant views read
`replica_1`, everything else and every write uses `default`, and a client that has just written reads `default`.
"""

import pytest
from django.core.cache import cache
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.factories import bearer_client, make_attribute, make_customer, make_user

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica_1"])
PERMS = (
    "view_customer", "view_customer_attribute", "create_customer_attribute", "update_customer_attribute",
    "manage_attribute_registry",
)  # fmt: skip


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def data():
    customer = make_customer(customer_name="Replica Ltd")
    make_attribute(customer, "vlan_id", "100")
    return customer


def reads(client, path):
    """(response, queries on default, queries on replica_1) of one GET; a streamed body is read inside."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica_1"]) as replica,
    ):
        response = client.get(path)
        response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, [q["sql"] for q in primary.captured_queries], [q["sql"] for q in replica.captured_queries]


def test_the_replica_alias_is_configured_and_routed(settings):
    assert settings.DATABASE_REPLICAS == ["replica_1"]
    assert settings.DATABASE_ROUTERS == ["crm_project.replicas.ReplicaRouter"]


@pytest.mark.parametrize(
    "path",
    [
        "/crm/attribute/?attribute_name=vlan_id",  # find
        "/crm/attribute/export/",
        "/crm/event/",
        "/crm/attribute/customer_id/{customer}/history/",
        "/crm/attribute/usage/",
        "/customers/{customer}/attributes/export.csv",
    ],
)
def test_lag_tolerant_reads_go_to_the_replica(data, path):
    client = bearer_client(make_user(*PERMS))
    if path.startswith("/customers/"):
        client.force_login(make_user(*PERMS, username="browser"))

    response, primary, replica = reads(client, path.format(customer=data.pk))

    assert response.status_code == 200, response.body[:300]
    assert any("attributes_" in sql or "events_" in sql for sql in replica), replica
    assert not any("attributes_attribute" in sql and "SELECT" in sql for sql in primary if "vlan_id" in sql)
    if "export" in path:
        assert b"vlan_id" in response.body


def test_other_reads_and_every_write_use_the_primary(data):
    client = bearer_client(make_user(*PERMS))

    page, _, page_replica = reads(client, f"/crm/attribute/customer_id/{data.pk}/")
    with CaptureQueriesContext(connections["replica_1"]) as replica:
        body = {"customer_id": data.pk, "attribute_name": "port", "attribute_value": "1"}
        write = client.put("/crm/attribute/", body, format="json")

    assert page.status_code == 200 and page_replica == []
    assert write.status_code == 201 and replica.captured_queries == []


def test_a_client_that_just_wrote_reads_its_writes_from_the_primary(data):
    writer, other = bearer_client(make_user(*PERMS)), bearer_client(make_user(*PERMS, username="other"))
    body = {"customer_id": data.pk, "attribute_name": "port", "attribute_value": "1"}
    assert writer.put("/crm/attribute/", body, format="json").status_code == 201

    mine, _, mine_on_replica = reads(writer, "/crm/attribute/?attribute_name=port")
    theirs, _, theirs_on_replica = reads(other, "/crm/attribute/?attribute_name=port")
    cache.clear()  # the read-your-writes window is over
    later, _, later_on_replica = reads(writer, "/crm/attribute/?attribute_name=port")

    assert [a["attribute_value"] for a in mine.json()] == ["1"]
    assert mine_on_replica == []
    assert theirs.status_code == 200 and theirs_on_replica
    assert later.status_code == 200 and later_on_replica


def test_a_refused_write_does_not_pin_the_client(data):
    client = bearer_client(make_user(*PERMS))
    refused = client.put("/crm/attribute/", {"customer_id": data.pk, "attribute_name": ""}, format="json")

    response, _, replica = reads(client, "/crm/attribute/?attribute_name=vlan_id")

    assert refused.status_code == 400
    assert response.status_code == 200 and replica


def test_a_session_that_just_wrote_reads_its_writes_from_the_primary(client, data):
    client.force_login(make_user(*PERMS))
    csrf_free = client  # Django's test client skips CSRF checks
    body = {"customer_id": data.pk, "attribute_name": "port", "attribute_value": "2"}
    assert csrf_free.put("/crm/attribute/", body, content_type="application/json").status_code == 201

    response, _, replica = reads(client, f"/customers/{data.pk}/attributes/export.csv")

    assert response.status_code == 200 and b"port" in response.body
    assert replica == []
