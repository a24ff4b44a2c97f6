"""A known data set for the usage audit and the rename paths, built explicitly."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from attributes.models import Attribute, AttributeDefinition
from attributes.services import RenameReport, rename_start
from customers.models import Customer
from jobs import runner
from tests.factories import make_attribute, make_customer

VIEW, UPDATE, DELETE = "view_customer_attribute", "update_customer_attribute", "delete_customer_attribute"
REGISTRY = "manage_attribute_registry"

T1 = datetime(2025, 1, 4, 10, 30, tzinfo=UTC)
T2 = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
T3 = datetime(2025, 3, 15, 17, 45, 5, tzinfo=UTC)


@dataclass
class DataSet:
    c1: Customer
    c2: Customer
    c3: Customer


def set_modified(customer: Customer, name: str, when: datetime) -> None:
    Attribute.objects.filter(customer=customer, attribute_name=name).update(last_modified=when)


@pytest.fixture
def dataset(db) -> DataSet:
    """Three customers:

    billing_method   c1=invoice c2=invoice c3=card   (3 customers, 2 values)
    billingmethod    c1=invoice                      (near-duplicate)
    billing_methods  c2=card                         (near-duplicate)
    tier             c1=gold    c2=silver            (defined: one of gold/silver/bronze)
    legacy_id        c3=L-1                          (not defined)
    churn_flag       defined (boolean), used by nobody
    """
    c1, c2, c3 = (make_customer(customer_name=f"Usage {n}") for n in (1, 2, 3))
    AttributeDefinition.objects.create(
        name="tier", description="Service tier sold", value_type="choice", choices="gold\nsilver\nbronze"
    )
    AttributeDefinition.objects.create(name="churn_flag", description="Set by the churn model", value_type="boolean")
    for customer, name, value in [
        (c1, "billing_method", "invoice"),
        (c2, "billing_method", "invoice"),
        (c3, "billing_method", "card"),
        (c1, "billingmethod", "invoice"),
        (c2, "billing_methods", "card"),
        (c1, "tier", "gold"),
        (c2, "tier", "silver"),
        (c3, "legacy_id", "L-1"),
    ]:
        make_attribute(customer, name, value)
    for customer, name, when in [
        (c1, "billing_method", T1),
        (c2, "billing_method", T3),
        (c3, "billing_method", T2),
        (c1, "billingmethod", T1),
        (c2, "billing_methods", T2),
        (c1, "tier", T1),
        (c2, "tier", T2),
        (c3, "legacy_id", T3),
    ]:
        set_modified(customer, name, when)
    return DataSet(c1, c2, c3)


def refresh(*, full: bool = False) -> dict:
    """Refresh the usage summary as the periodic job does (run here, in-process)."""
    from attributes.services import usage_refresh

    return usage_refresh(full=full)


def values(name: str) -> dict[int, str]:
    """customer_id -> value of `name`, for every customer that has it."""
    return dict(Attribute.objects.filter(attribute_name=name).values_list("customer_id", "attribute_value"))


def snapshot() -> list[tuple]:
    return list(
        Attribute.objects.order_by("pk").values_list(
            "pk", "customer_id", "attribute_name", "attribute_value", "last_modified"
        )
    )


def run_rename(**kwargs) -> RenameReport:
    """Start the rename job (`services.rename_start`) and run it here, as a worker would; what it did."""
    job = rename_start(**kwargs)
    [ran] = [j for j in runner.run_queued() if j.pk == job.pk]
    return RenameReport.from_job(ran)
