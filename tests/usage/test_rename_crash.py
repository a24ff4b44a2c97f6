"""A rename job in real worker processes: kill -9 mid-rename, another worker finishes it exactly.

The final rows and history are compared with what a clean run gives, computed from the seed: every customer has
the new name and not the old, merged values by `prefer`, exactly one history row per changed attribute.
"""

import pytest
from django.utils import timezone

from attributes.models import Attribute, NameReservation
from attributes.services import rename_start
from customers.models import Customer
from jobs.models import Job
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
CUSTOMERS = 3000
WORKER_ENV = {"ATTRIBUTES_RENAME_CHUNK": "100"}


def seed() -> dict[int, tuple[str, str | None]]:
    """3000 customers with `plan`; every third also has `billing_plan` equal, every third a different one."""
    now = timezone.now()
    Customer.objects.bulk_create(Customer(customer_name=f"Crash {i}") for i in range(CUSTOMERS))
    ids = sorted(Customer.objects.values_list("pk", flat=True))
    rows, plan = [], {}
    for i, cid in enumerate(ids):
        other = {0: None, 1: f"p{i}", 2: f"q{i}"}[i % 3]
        rows.append(
            Attribute(customer_id=cid, attribute_name="plan", attribute_value=f"p{i}", created=now, last_modified=now)
        )
        if other is not None:
            rows.append(
                Attribute(
                    customer_id=cid,
                    attribute_name="billing_plan",
                    attribute_value=other,
                    created=now,
                    last_modified=now,
                )
            )
        plan[cid] = (f"p{i}", other)
    Attribute.objects.bulk_create(rows, batch_size=1000)  # no history rows: the seed is the starting point
    return plan


def _job(pk) -> Job:
    return Job.objects.get(pk=pk)


def test_a_rename_killed_with_its_worker_is_finished_exactly_by_the_next_one(workers):
    plan = seed()
    job = rename_start(old="plan", new="billing_plan", actor=None, prefer="old")
    first = workers.start("first", **WORKER_ENV)
    wait_for(lambda: 0 < _job(job.pk).done < CUSTOMERS, interval=0.01, message="the rename to be part done")
    first.kill()
    killed = _job(job.pk)
    assert killed.status == Job.Status.RUNNING and 0 < killed.done < CUSTOMERS, workers.logs()
    assert NameReservation.objects.filter(job=job).count() == 2  # held until the resumed run ends

    workers.start("second", **WORKER_ENV)
    seen = []

    def finished():
        current = _job(job.pk)
        seen.append(current.done)
        return current if not current.active else None

    done = wait_for(finished, timeout=120, message="the rename to finish")
    assert done.status == Job.Status.SUCCEEDED, (done.error, workers.logs())
    assert seen == sorted(seen)  # progress never went backwards for this reader
    assert done.attempts == 2 and done.done == CUSTOMERS
    assert (done.result["renamed"], done.result["merged"]) == (CUSTOMERS // 3, CUSTOMERS - CUSTOMERS // 3)
    assert not Attribute.objects.filter(attribute_name="plan").exists()
    assert dict(
        Attribute.objects.filter(attribute_name="billing_plan").values_list("customer_id", "attribute_value")
    ) == {
        cid: old
        for cid, (old, _) in plan.items()  # prefer="old"
    }
    history = sorted(
        Attribute.history.filter(operation__in=["rename_all", "merge"]).values_list(
            "customer_id", "attribute_name", "history_type", "operation"
        )
    )
    expected = []
    for cid, (old, other) in plan.items():
        if other is None:
            expected.append((cid, "billing_plan", "~", "rename_all"))
        else:
            expected.append((cid, "plan", "-", "merge"))
            if other != old:
                expected.append((cid, "billing_plan", "~", "merge"))
    assert history == sorted(expected)  # no lost row, no duplicated history row
    assert not NameReservation.objects.exists()
