"""The races an outside probe found (issue 11, finding 3), reproduced with real threads on the real database.

Each scenario runs a few seconds at most (bounded loops), with its own database connection per thread,
and asserts that no writer saw an error (a 500 or 503 over HTTP: IntegrityError, a deadlock) and that
the rows and their history agree afterwards. On SQLite the writes are serialised by BEGIN IMMEDIATE, so
these pass there trivially; PostgreSQL (DATABASE_URL=postgres://…) is where they found the bugs.
"""

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from attributes import services
from attributes.models import Attribute, AttributeDefinition
from attributes.services import Result
from attributes.services.common import NameReserved
from customers.models import Customer
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = 3.0  # each thread stops starting new writes after this long


def run_threads(workers: list) -> list:
    """Run each callable in its own thread with its own connection, released together; collect what they return."""
    barrier = threading.Barrier(len(workers))

    def run(work):
        try:
            barrier.wait(timeout=30)
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        futures = [pool.submit(run, work) for work in workers]
        return [future.result() for future in futures]


def errors_of(work):
    """Wrap a loop body so that any exception is collected (with its type) instead of ending the thread."""

    def loop(seed: int, iterations: int) -> list[str]:
        rng = random.Random(seed)
        errors = []
        deadline = time.monotonic() + SECONDS
        for _ in range(iterations):
            if time.monotonic() > deadline:
                break
            try:
                work(rng)
            except Exception as error:  # noqa: BLE001 - every error is a failure of the test; collect them all
                errors.append(f"{type(error).__name__}: {error}")
        return errors

    return loop


def assert_history_matches_rows() -> None:
    """Every attribute's newest history row shows its current name and value; every attribute was created once."""
    history = Attribute.history.model.objects
    for attribute in Attribute.objects.all():
        rows = list(history.filter(attribute_id=attribute.pk).order_by("history_id"))
        assert rows, f"no history for {attribute}"
        assert [r.history_type for r in rows].count("+") == 1, [(r.history_type, r.operation) for r in rows]
        newest = rows[-1]
        assert newest.history_type != "-", attribute
        assert (newest.attribute_name, newest.attribute_value) == (attribute.attribute_name, attribute.attribute_value)


def test_bulk_writers_deleters_and_single_puts_over_the_same_keys_never_fail():
    customers = [make_customer() for _ in range(4)]
    keys = [(c.pk, f"key_{n}") for c in customers for n in range(10)]  # 40 keys
    by_pk = {c.pk: c for c in customers}
    outcomes: list[tuple[int, Result]] = []

    def bulk(rng):
        chosen = rng.sample(keys, 15)
        items = [{"customer_id": c, "attribute_name": n, "attribute_value": f"v{rng.randrange(3)}"} for c, n in chosen]
        for outcome in services.attribute_bulk_upsert(items=items, actor=None):
            outcomes.append((outcome.attribute.pk, outcome.result))

    def delete(rng):
        customer_id, name = rng.choice(keys)
        attribute = Attribute.objects.filter(customer_id=customer_id, attribute_name=name).first()
        if attribute is not None:
            try:
                services.attribute_delete(attribute=attribute, actor=None)
            except Attribute.DoesNotExist:
                pass  # someone else deleted it first: the answer is a 404, not an error

    def put(rng):
        customer_id, name = rng.choice(keys)
        # No exception at all: a lost insert race whose winner is deleted again before it can be locked inserts anew.
        services.attribute_upsert(customer=by_pk[customer_id], name=name, value=f"v{rng.randrange(3)}", actor=None)

    loops = [(errors_of(bulk), 8, 40), (errors_of(delete), 6, 60), (errors_of(put), 6, 60)]
    plan = [(loop, iterations) for loop, count, iterations in loops for _ in range(count)]
    workers = [(lambda loop=loop, seed=seed, n=n: loop(seed, n)) for seed, (loop, n) in enumerate(plan)]

    errors = [e for thread_errors in run_threads(workers) for e in thread_errors]

    assert errors == []
    assert outcomes, "the bulk writers wrote nothing"
    history = Attribute.history.model.objects
    created = {pk for pk, result in outcomes if result is Result.CREATED}
    assert set(history.filter(attribute_id__in=created, history_type="+").values_list("attribute_id", flat=True)) == (
        created
    )
    for pk, result in outcomes:
        if result is Result.UPDATED:
            assert history.filter(attribute_id=pk, history_type="~", operation="bulk").exists()
    assert_history_matches_rows()


@pytest.mark.parametrize("rounds", [4])
def test_parallel_swaps_of_two_names_across_customers_never_deadlock(rounds):
    customers = [make_customer() for _ in range(30)]
    items = []
    for i, customer in enumerate(customers):
        names = ["rn_x"] if i % 3 == 0 else ["rn_y"] if i % 3 == 1 else ["rn_x", "rn_y"]
        items += [{"customer_id": customer.pk, "attribute_name": n, "attribute_value": "same"} for n in names]
    services.attribute_bulk_upsert(items=items, actor=None)
    actor = make_user("update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")

    def swap(old, new):
        def work(rng):
            try:
                services.attribute_rename_all(old=old, new=new, actor=actor, prefer="new", dry_run=False)
            except NameReserved:
                pass  # another swap's job holds the names: a clear refusal (409 in the API), retried next round

        return work

    workers = [
        (lambda i=i: errors_of(swap(*(("rn_x", "rn_y") if i % 2 else ("rn_y", "rn_x"))))(i, rounds)) for i in range(6)
    ]

    errors = [e for thread_errors in run_threads(workers) for e in thread_errors]

    assert errors == []
    names = Counter(Attribute.objects.values_list("customer_id", flat=True))
    assert names == {c.pk: 1 for c in customers}  # every pair merged into one name, nobody lost theirs
    assert_history_matches_rows()


@pytest.mark.parametrize("prefer", ["old", None])
def test_fleet_rename_racing_puts_that_create_the_target_never_fails(prefer):
    customers = [make_customer() for _ in range(150)]
    actor = make_user("update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")
    for round_ in range(3):
        Attribute.objects.filter(attribute_name="rn_new").delete()
        services.attribute_bulk_upsert(
            items=[{"customer_id": c.pk, "attribute_name": "rn_old", "attribute_value": "old"} for c in customers],
            actor=None,
        )
        done = threading.Event()

        def rename(done=done):
            try:
                report = services.attribute_rename_all(
                    old="rn_old", new="rn_new", actor=actor, prefer=prefer, dry_run=False
                )
                return ["written" if report.written else f"refused: {len(report.conflicts)} conflicts"]
            except ValidationError as error:  # a clear answer (a form error), not a 500
                return [f"refused: {error.messages}"]
            except Exception as error:  # noqa: BLE001
                return [f"{type(error).__name__}: {error}"]
            finally:
                done.set()

        def put(seed, done=done):
            rng = random.Random(seed)
            errors = []
            while not done.is_set():
                customer = rng.choice(customers)
                try:
                    services.attribute_upsert(customer=customer, name="rn_new", value="put", actor=None)
                except NameReserved:
                    pass  # the rename job holds the name: refused clearly, nothing written (409 in the API)
                except Exception as error:  # noqa: BLE001
                    errors.append(f"{type(error).__name__}: {error}")
            return errors

        results = run_threads([rename] + [lambda s=round_ * 10 + i: put(s) for i in range(4)])
        assert [e for errors in results[1:] for e in errors] == []
        if prefer == "old":
            # No value can conflict, so a target created meanwhile is merged into, never a reason to refuse.
            assert results[0] == ["written"]
        if results[0] == ["written"]:
            assert not Attribute.objects.filter(attribute_name="rn_old").exists()
            assert Attribute.objects.filter(attribute_name="rn_new").count() == len(customers)
        else:  # a PUT's different value is a conflict: refused as a whole, nothing renamed
            assert results[0][0].startswith("refused: ") and not results[0][0].startswith("refused: 0 "), results
            assert Attribute.objects.filter(attribute_name="rn_old").count() == len(customers)
        assert_history_matches_rows()


def test_concurrent_imports_of_the_same_rows_in_several_chunks_never_deadlock():
    customers = [make_customer() for _ in range(60)]
    rows = [(c.pk, f"imp_{n}") for c in customers for n in range(5)]  # 300 rows

    def importer(order, value):
        def work(rng):
            lines = [(i + 2, c, n, value) for i, (c, n) in enumerate(order)]
            report = services.attribute_import(rows=lines, actor=None, dry_run=False, chunk_size=40)
            assert report.written, report.rejected

        return work

    forward, backward = rows, rows[::-1]
    shuffled = random.Random(7).sample(rows, len(rows))
    workers = [
        (lambda i=i, order=order: errors_of(importer(order, f"file{i}"))(i, 3))
        for i, order in enumerate([forward, backward, shuffled, backward])
    ]

    errors = [e for thread_errors in run_threads(workers) for e in thread_errors]

    assert errors == []
    assert Attribute.objects.count() == len(rows)
    assert set(Attribute.objects.values_list("attribute_value", flat=True)) <= {f"file{i}" for i in range(4)}
    assert_history_matches_rows()


def test_renaming_a_protected_name_across_customers_needs_its_name_as_confirmation():
    customer = make_customer()
    AttributeDefinition.objects.create(name="billing_account", protected=True)
    services.attribute_upsert(customer=customer, name="billing_account", value="B-1", actor=None)
    actor = make_user("update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")

    preview = services.attribute_rename_all(old="billing_account", new="zz_gone", actor=actor, dry_run=True)
    assert preview.renamed == 1 and not preview.written
    with pytest.raises(ValidationError) as refused:
        services.attribute_rename_all(old="billing_account", new="zz_gone", actor=actor, dry_run=False)
    assert "confirm" in refused.value.message_dict
    assert Attribute.objects.get().attribute_name == "billing_account"

    report = services.attribute_rename_all(
        old="billing_account", new="zz_gone", actor=actor, confirm="billing_account", dry_run=False
    )
    assert report.written
    assert Attribute.objects.get().attribute_name == "zz_gone"
    assert Customer.objects.count() == 1


def test_fleet_rename_racing_bulk_writers_of_both_names_never_fails():
    customers = [make_customer() for _ in range(40)]
    actor = make_user("update_customer_attribute", "delete_customer_attribute", "manage_attribute_registry")
    done = threading.Event()

    def rename(done=done):
        errors = []
        try:
            for n in range(4):
                old, new = ("rb_a", "rb_b") if n % 2 == 0 else ("rb_b", "rb_a")
                try:
                    services.attribute_rename_all(old=old, new=new, actor=actor, prefer="new", dry_run=False)
                except ValidationError:
                    pass  # a clear form error (the target keeps appearing), not a 500
                except Exception as error:  # noqa: BLE001
                    errors.append(f"{type(error).__name__}: {error}")
        finally:
            done.set()
        return errors

    def bulk(seed, done=done):
        rng = random.Random(seed)
        errors = []
        while not done.is_set():
            chosen = rng.sample(customers, 10)
            items = [
                {"customer_id": c.pk, "attribute_name": name, "attribute_value": f"v{rng.randrange(2)}"}
                for c in chosen
                for name in ("rb_a", "rb_b")
            ]
            try:
                services.attribute_bulk_upsert(items=items, actor=None)
            except NameReserved:
                pass  # the rename job holds the names: refused clearly, nothing written (409 in the API)
            except Exception as error:  # noqa: BLE001
                errors.append(f"{type(error).__name__}: {error}")
        return errors

    results = run_threads([rename] + [lambda s=s: bulk(s) for s in range(4)])

    assert [e for errors in results for e in errors] == []
    assert_history_matches_rows()


def test_single_renames_racing_bulk_writers_of_the_target_names_never_fail():
    """A rename writes a new key while holding its row; a bulk writer that inserted that key and then waits for
    the row is a deadlock PostgreSQL breaks by aborting one side. The aborted rename runs again."""
    customers = [make_customer() for _ in range(3)]
    names = ["sw_a", "sw_b", "sw_c"]

    def rename(rng):
        customer = rng.choice(customers)
        attribute = Attribute.objects.filter(customer=customer, attribute_name__in=names).order_by("?").first()
        if attribute is None:
            return
        target = rng.choice([n for n in names if n != attribute.attribute_name])
        try:
            services.attribute_update(attribute=attribute, name=target, actor=None)
        except Attribute.DoesNotExist:
            pass  # a 404: deleted meanwhile
        except ValidationError as error:
            assert "attribute_name" in error.message_dict, error  # the customer has the target: a 400
            return

    def bulk(rng):
        items = [
            {"customer_id": c.pk, "attribute_name": n, "attribute_value": f"v{rng.randrange(3)}"}
            for c in rng.sample(customers, 3)
            for n in rng.sample(names, 2)
        ]
        services.attribute_bulk_upsert(items=items, actor=None)

    def delete(rng):  # frees names again, so renames and bulk inserts keep meeting on new keys
        attribute = Attribute.objects.filter(customer=rng.choice(customers), attribute_name__in=names).first()
        if attribute is not None:
            try:
                services.attribute_delete(attribute=attribute, actor=None)
            except Attribute.DoesNotExist:
                pass

    plan = [(errors_of(rename), 80)] * 3 + [(errors_of(bulk), 60)] * 3 + [(errors_of(delete), 80)] * 2
    errors = [
        e for found in run_threads([lambda lp=lp, s=s, n=n: lp(s, n) for s, (lp, n) in enumerate(plan)]) for e in found
    ]

    assert errors == []
    assert_history_matches_rows()
