"""Every example of the README's "Integrating from Python", run as written against a live server.

The code is read from README.md (each block follows an `<!-- example: NAME -->` marker), so the README cannot drift
from what runs. `CRM_URL` and `CRM_TOKEN` come from the environment, as the examples say; the customers 123 and 124
are made with those ids.
"""

import re
import types
from pathlib import Path

import pytest

from attributes.models import Attribute
from customers.models import Customer
from events.services import events_sequence
from tests.factories import make_attribute
from webhooks.services import dispatch_once

from .conftest import ALL_ATTRIBUTE_PERMS

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = README.read_text().split("### Integrating from Python", 1)[1].split("\n## ", 1)[0]
EXAMPLES = dict(re.findall(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)```", SECTION, re.DOTALL))
TESTED = {
    "onboarding",
    "billing-cycle",
    "feature-flags",
    "premium-customers",
    "bulk-sync",
    "lost-update",
    "change-feed",
    "rename",
    "webhook-receiver",
}
PERMS = (*ALL_ATTRIBUTE_PERMS, "view_customer", "manage_attribute_registry", "manage_webhooks")


def test_every_example_of_the_section_has_a_test():
    assert set(EXAMPLES) == TESTED
    assert all("```" not in code for code in EXAMPLES.values())


@pytest.fixture
def environment(crm, monkeypatch, tmp_path):
    """The integration's environment: CRM_URL, CRM_TOKEN, a working directory; customers 123 and 124."""
    client = crm(*PERMS)
    monkeypatch.setenv("CRM_URL", client.url)
    monkeypatch.setenv("CRM_TOKEN", client.raw_token)
    monkeypatch.chdir(tmp_path)
    Customer.objects.create(pk=123, customer_name="Metro Fiber Ltd")
    Customer.objects.create(pk=124, customer_name="Harbour Telecom")
    return client


def run(name: str, **names) -> dict:
    namespace = {"__name__": f"readme_{name.replace('-', '_')}", **names}
    exec(compile(EXAMPLES[name], f"README.md:{name}", "exec"), namespace)  # noqa: S102 (the README's own code)
    return namespace


def values(customer_id: int) -> dict[str, str]:
    return dict(Attribute.objects.filter(customer_id=customer_id).values_list("attribute_name", "attribute_value"))


def test_onboarding(environment):
    run("onboarding")
    assert values(123) == {"legacy_crm_id": "OLD-12345", "migrated_date": "2025-01-04"}


def test_billing_cycle(environment):
    namespace = run("billing-cycle")
    assert namespace["billing_cycle"] == "quarterly"
    assert values(123) == {"billing_cycle": "quarterly"}


def test_billing_cycle_defaults_to_monthly_without_the_attribute(environment):
    code = EXAMPLES["billing-cycle"].replace('crm.upsert(123, "billing_cycle", "quarterly")', "")
    namespace = {}
    exec(compile(code, "README.md:billing-cycle", "exec"), namespace)  # noqa: S102
    assert namespace["billing_cycle"] == "monthly"


def test_feature_flags(environment):
    make_attribute(Customer.objects.get(pk=124), "feature_ipv6_enabled", "false")
    namespace = run("feature-flags")
    assert namespace["ipv6_customers"] == [123]


def test_premium_customers(environment, capsys):
    make_attribute(Customer.objects.get(pk=123), "support_tier", "premium")
    make_attribute(Customer.objects.get(pk=124), "support_tier", "basic")
    run("premium-customers")
    assert capsys.readouterr().out == "Premium customer: Metro Fiber Ltd\n"


def test_bulk_sync(environment, capsys):
    run("bulk-sync")
    out = capsys.readouterr().out
    assert out.startswith("row 2: customer_id: ")
    assert not Attribute.objects.exists()  # one chunk, all or nothing


def test_lost_update(environment, writer, capsys):
    make_attribute(Customer.objects.get(pk=123), "credit_limit", "10000")
    run("lost-update")
    assert values(123) == {"credit_limit": "10500"}
    assert capsys.readouterr().out == ""

    # Someone changes it between the read and the write: the example's update is refused, not applied.
    code = EXAMPLES["lost-update"].replace("try:\n", 'try:\n    writer.update(limit.attribute_id, value="20000")\n', 1)
    exec(compile(code, "README.md:lost-update", "exec"), {"writer": writer})  # noqa: S102
    assert values(123) == {"credit_limit": "20000"}
    assert "changed meanwhile to 20000; not overwritten" in capsys.readouterr().out


def test_change_feed(environment, writer, capsys):
    writer.upsert(123, "billing_cycle", "monthly")
    writer.upsert(124, "support_tier", "premium")
    writer.upsert(123, "billing_cycle", "quarterly")

    run("change-feed")
    first = capsys.readouterr().out.splitlines()
    writer.upsert(124, "billing_cycle", "annual")
    run("change-feed")  # the next run resumes from the stored position
    second = capsys.readouterr().out.splitlines()

    assert [line.split(" ", 1)[1] for line in first] == [
        "attribute.created 123 monthly",
        "attribute.updated 123 quarterly",
    ]
    assert [line.split(" ", 1)[1] for line in second] == ["attribute.created 124 annual"]
    assert Path("crm-feed.position").read_text() == second[0].split(" ")[0]


def test_rename(environment, run_jobs, capsys):
    for customer_id in (123, 124):
        make_attribute(Customer.objects.get(pk=customer_id), "billingmethod", "quarterly")
    make_attribute(Customer.objects.get(pk=124), "billing_method", "annual")

    with run_jobs():
        namespace = run("rename")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 to rename, 1 to merge, 0 conflicts"
    assert lines[-1] == "succeeded 2 2"
    assert namespace["job"].status == "succeeded"
    assert values(123) == {"billing_method": "quarterly"}
    assert values(124) == {"billing_method": "annual"}  # prefer="new": the value the new name had wins


def test_webhook_receiver(environment, writer, receiver, monkeypatch, capsys):
    webhook = environment.create_webhook(receiver.url, ["attribute.updated"])
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", webhook.secret)
    writer.upsert(123, "billing_cycle", "monthly")
    writer.upsert(123, "billing_cycle", "quarterly")
    events_sequence()
    dispatch_once()
    body, headers = receiver.requests[-1]

    receive = run("webhook-receiver")["receive"]
    receive(types.SimpleNamespace(body=body, headers=headers))
    assert capsys.readouterr().out == "customer 123: billing_cycle changed\n"

    forged = types.SimpleNamespace(body=body.replace(b"quarterly", b"free"), headers=headers)
    from crm_attributes_client import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        receive(forged)
