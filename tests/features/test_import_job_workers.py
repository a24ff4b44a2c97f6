"""The import job in real `run_worker` processes: kill -9 mid-import and another worker finishes it exactly; cancel
stops it between chunks and the result says what was written. On whichever database the run uses."""

import pytest

from attributes import services
from attributes.models import Attribute
from customers.models import Customer
from jobs import engine
from jobs.models import Job
from tests.factories import make_customer
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
History = Attribute.history.model
CUSTOMERS, NAMES = 50, 100  # 5000 rows
HEADER = "customer_id,attribute_name,attribute_value\n"


def _job(pk) -> Job:
    return Job.objects.get(pk=pk)


@pytest.fixture
def fleet() -> tuple[str, dict, dict]:
    """50 customers, 10 names each already stored (half of them with the file's value), and a 5000-row file.

    Returns the file, the final state it must leave ({(customer_id, name): value}) and the rows before it.
    """
    customers = [make_customer(customer_name=f"Fleet {n}") for n in range(CUSTOMERS)]
    existing = [
        Attribute(customer=c, attribute_name=f"name_{n:03}", attribute_value="v1" if n % 2 else "old")
        for c in customers
        for n in range(10)
    ]
    Attribute.objects.bulk_create(existing)
    wanted = {(c.pk, f"name_{n:03}"): "v1" for c in customers for n in range(NAMES)}
    text = HEADER + "".join(f"{cid},{name},{value}\n" for (cid, name), value in wanted.items())
    before = dict(((a.customer_id, a.attribute_name), a.attribute_value) for a in existing)
    return text, wanted, before


def _stored() -> dict:
    return dict(
        ((cid, name), value)
        for cid, name, value in Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value")
    )


def _poll(pk, seen: list, until):
    job = _job(pk)
    seen.append(job.done)
    return job if until(job) else None


def test_an_import_killed_with_its_worker_is_finished_by_the_next_one_exactly(workers, fleet):
    text, wanted, before = fleet
    job = services.import_start(text=text, actor=None, filename="fleet.csv")
    first = workers.start("first", ATTRIBUTES_IMPORT_CHUNK="200")
    seen: list[int] = []
    wait_for(lambda: _poll(job.pk, seen, lambda j: 0 < j.done < 5000), timeout=120, message="the import half done")
    first.kill()
    killed_at = _job(job.pk)
    assert killed_at.status == Job.Status.RUNNING and killed_at.done < 5000, workers.logs()

    workers.start("second", ATTRIBUTES_IMPORT_CHUNK="200")
    done = wait_for(lambda: _poll(job.pk, seen, lambda j: not j.active), timeout=120, message="the import finished")

    assert done.status == Job.Status.SUCCEEDED, (done.error, workers.logs())
    assert seen == sorted(seen), "progress went backwards for a reader"
    assert done.attempts == 2
    assert _stored() == wanted  # every row of the file, nothing else
    created = {key for key in wanted if key not in before}
    updated = {key for key, value in before.items() if value != wanted[key]}
    assert (done.result["created"], done.result["updated"], done.result["unchanged"]) == (
        len(created),
        len(updated),
        len(before) - len(updated),
    )
    history = list(
        History.objects.filter(operation="import").values_list("customer_id", "attribute_name", "history_type")
    )
    assert len(history) == len(set(history)) == len(created) + len(updated)  # one history row each, none twice
    assert {(c, n) for c, n, t in history if t == "+"} == created
    assert {(c, n) for c, n, t in history if t == "~"} == updated


def test_cancel_stops_an_import_between_chunks_and_the_result_says_what_was_written(workers, fleet):
    text, wanted, before = fleet
    job = services.import_start(text=text, actor=None, filename="fleet.csv")
    workers.start("first", ATTRIBUTES_IMPORT_CHUNK="25")
    wait_for(lambda: _job(job.pk).done >= 50, timeout=120, message="the import running")

    engine.cancel(_job(job.pk))
    cancelled = wait_for(lambda: (j := _job(job.pk)).status != Job.Status.RUNNING and j, timeout=60, message="cancel")

    assert cancelled.status == Job.Status.CANCELLED, workers.logs()
    assert 50 <= cancelled.done < 5000 and cancelled.done % 25 == 0
    result = cancelled.result
    assert result["created"] + result["updated"] + result["unchanged"] == cancelled.done  # what was done, exactly
    assert History.objects.filter(operation="import").count() == result["created"] + result["updated"]
    assert Attribute.objects.count() == len(before) + result["created"]
    assert Customer.objects.count() == CUSTOMERS
