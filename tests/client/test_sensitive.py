"""Sensitive names through the client: masked values are None (with `sensitive`), never a placeholder string."""

import pytest

from attributes.models import Attribute
from tests.factories import make_customer

from .conftest import ALL_ATTRIBUTE_PERMS

SECRET = "sk_live_Zq8xV3pL9tR2mW7yB4nK"
SEE = "view_sensitive_customer_attribute"
REGISTRY = ("view_customer_attribute", "manage_attribute_registry")


@pytest.fixture
def registry(crm):
    return crm(*REGISTRY)


def test_a_sensitive_value_is_none_for_a_reader_without_the_permission_and_plain_with_it(crm, registry):
    registry.define("api_key", sensitive=True)
    writer = crm(*ALL_ATTRIBUTE_PERMS)
    holder = crm(*ALL_ATTRIBUTE_PERMS, SEE, username="keyholder")
    customer = make_customer()

    written = writer.upsert(customer.pk, "api_key", SECRET)
    masked = writer.get(written.attribute_id)
    plain = holder.get(written.attribute_id)

    assert (written.attribute_value, written.sensitive) == (None, True)
    assert (masked.attribute_value, masked.sensitive) == (None, True)
    assert writer.values(customer.pk) == {"api_key": None}
    assert (plain.attribute_value, plain.sensitive) == (SECRET, True)
    assert [(r.username, r.attribute_name) for r in registry.reveal_log(customer_id=customer.pk)][0] == (
        "keyholder",
        "api_key",
    )


def test_history_and_events_never_carry_a_sensitive_value(crm, registry):
    registry.define("api_key", sensitive=True)
    holder = crm(*ALL_ATTRIBUTE_PERMS, SEE)
    customer = make_customer()
    holder.upsert(customer.pk, "api_key", SECRET)

    record = next(holder.history(customer_id=customer.pk))
    event = next(iter(holder.events()))

    assert (record.attribute_value, record.sensitive) == (None, True)
    assert (event.data.attribute_value, event.data.sensitive) == (None, True)


def test_marking_a_name_in_use_answers_its_job_which_the_client_waits_for(crm, registry, run_jobs):
    writer = crm(*ALL_ATTRIBUTE_PERMS)
    customers = [make_customer() for _ in range(3)]
    writer.bulk_upsert((c.pk, "api_key", f"{SECRET}{n}") for n, c in enumerate(customers))

    definition = registry.define("api_key", sensitive=True)
    assert definition.job_id is not None
    with run_jobs():
        job = registry.wait(definition.job_id)

    assert job.status == "succeeded"
    assert not Attribute.objects.filter(attribute_value__startswith=SECRET).exists()  # encrypted at rest now
    assert {a.attribute_value for a in writer.attributes(customers[0].pk)} == {None}
