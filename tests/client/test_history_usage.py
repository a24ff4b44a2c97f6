"""History, restore and the usage audit through the client."""

import pytest
from crm_attributes_client import NotFound, PermissionDenied

from attributes.services import usage_refresh
from tests.factories import make_customer

from .conftest import ALL_ATTRIBUTE_PERMS


def test_history_lists_every_change_newest_first_across_pages(writer):
    customer = make_customer()
    attribute = writer.upsert(customer.pk, "billing_cycle", "monthly")
    writer.update(attribute.attribute_id, value="quarterly")
    writer.delete(attribute.attribute_id)

    records = list(writer.history(customer_id=customer.pk))
    same = list(writer.history(attribute_id=attribute.attribute_id))

    assert [(r.action, r.attribute_value) for r in records] == [
        ("deleted", "quarterly"),
        ("updated", "quarterly"),
        ("created", "monthly"),
    ]
    assert records[1].previous_value == "monthly" and records[0].channel == "api"
    assert [r.history_id for r in same] == [r.history_id for r in records]


def test_restore_brings_back_a_deleted_attribute(writer):
    customer = make_customer()
    attribute = writer.upsert(customer.pk, "external_crm_id", "SF-12345")
    writer.delete(attribute.attribute_id)
    deletion = next(writer.history(attribute_id=attribute.attribute_id))

    restored = writer.restore(deletion.history_id)

    assert (restored.attribute_name, restored.attribute_value) == ("external_crm_id", "SF-12345")
    assert writer.values(customer.pk) == {"external_crm_id": "SF-12345"}
    assert next(writer.history(customer_id=customer.pk)).operation == "restore"


def test_restore_needs_the_write_permission_and_an_existing_entry(crm, writer):
    customer = make_customer()
    attribute = writer.upsert(customer.pk, "vlan_id", "100")
    writer.delete(attribute.attribute_id)
    deletion = next(writer.history(attribute_id=attribute.attribute_id))

    with pytest.raises(PermissionDenied):
        crm("view_customer_attribute").restore(deletion.history_id)
    with pytest.raises(NotFound):
        writer.restore(10**12)
    assert writer.values(customer.pk) == {}


def test_usage_reports_names_and_pages_through_them(crm, proxy):
    writer = crm(*ALL_ATTRIBUTE_PERMS, url=proxy.url)
    customers = [make_customer() for _ in range(3)]
    for n, customer in enumerate(customers):
        writer.set_attributes(customer.pk, {"support_tier": "premium" if n else "basic", f"plan_{n}": "x"})
    usage_refresh(full=True)

    report = writer.usage(name_prefix="support")
    before = len(proxy.seen)
    names = [u.attribute_name for u in writer.usage_names(page_size=3)]

    assert [u.attribute_name for u in report.names] == ["support_tier"]
    tier = report.names[0]
    assert (tier.customers, tier.distinct_values, tier.top_values[0]) == (3, 2, ("premium", 2))
    assert report.as_of is not None and report.names_count == 1
    assert names == ["plan_0", "plan_1", "plan_2", "support_tier"]
    assert len(proxy.seen) - before == 2  # pages of 3 and 1
    assert writer.usage(limit=2, offset=2).names[0].attribute_name == "plan_2"
