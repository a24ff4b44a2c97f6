"""The rename job run in-process: chunks equal one pass, names reserved while it runs, cancel between chunks."""

import logging

import pytest
from django.core.exceptions import ValidationError

from attributes.models import Attribute, NameReservation
from attributes.services import attribute_import, attribute_rename_all, attribute_upsert, rename_start
from attributes.services.rename import _reserve
from jobs import engine, runner
from jobs.models import Job
from tests.factories import make_attribute, make_customer

from .conftest import DELETE, REGISTRY, UPDATE, VIEW, run_rename, values

RENAMER = (VIEW, UPDATE, DELETE, REGISTRY, "create_customer_attribute")


def build(n: int = 10) -> dict[int, tuple[str, str | None]]:
    """n customers with `plan`: only `plan` (i % 3 == 0), both equal (1), or both different (2); the seed."""
    seed = {}
    for i in range(n):
        customer = make_customer(customer_name=f"Job {i}")
        make_attribute(customer, "plan", f"p{i}")
        other = {0: None, 1: f"p{i}", 2: f"q{i}"}[i % 3]
        if other is not None:
            make_attribute(customer, "billing_plan", other)
        make_attribute(customer, "untouched", "x")
        seed[customer.pk] = (f"p{i}", other)
    return seed


def expected(seed, prefer: str) -> dict[int, str]:
    return {cid: (old if other is None or prefer == "old" else other) for cid, (old, other) in seed.items()}


def history_rows() -> list[tuple]:
    return sorted(
        Attribute.history.filter(operation__in=["rename_all", "merge"]).values_list(
            "customer_id", "attribute_name", "attribute_value", "history_type", "operation", "previous_value"
        )
    )


def expected_history(seed, prefer: str) -> list[tuple]:
    """Exactly one history row per changed attribute."""
    rows = []
    for cid, (old, other) in seed.items():
        if other is None:
            rows.append((cid, "billing_plan", old, "~", "rename_all", ""))
            continue
        rows.append((cid, "plan", old, "-", "merge", ""))
        if other != old and prefer == "old":
            rows.append((cid, "billing_plan", old, "~", "merge", other))
    return sorted(rows)


@pytest.mark.parametrize("prefer", ["old", "new"])
@pytest.mark.parametrize("chunk", [2, 1000])
def test_chunked_run_gives_what_one_pass_gives(db, settings, prefer, chunk):
    settings.ATTRIBUTES_RENAME_CHUNK = chunk
    seed = build(10)

    report = run_rename(old="plan", new="billing_plan", actor=None, prefer=prefer)

    assert (report.renamed, report.merged, report.written) == (4, 6, True)
    assert values("plan") == {}
    assert values("billing_plan") == expected(seed, prefer)
    assert history_rows() == expected_history(seed, prefer)
    assert len(values("untouched")) == 10
    job = report.job
    assert (job.done, job.total, job.checkpoint["after"]) == (10, 10, max(seed))
    assert not NameReservation.objects.exists()


def test_dry_run_counts_what_the_job_then_does(db, settings):
    settings.ATTRIBUTES_RENAME_CHUNK = 3
    build(9)

    dry = attribute_rename_all(old="plan", new="billing_plan", actor=None, prefer="new")
    done = run_rename(old="plan", new="billing_plan", actor=None, prefer="new")

    assert (dry.renamed, dry.merged, dry.written) == (done.renamed, done.merged, False)


def test_a_conflict_fails_the_job_before_any_chunk_and_releases_the_names(db, settings):
    settings.ATTRIBUTES_RENAME_CHUNK = 2
    build(10)
    before = sorted(Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value"))

    report = run_rename(old="plan", new="billing_plan", actor=None)

    assert report.job.status == Job.Status.FAILED and report.job.done == 0
    assert len(report.conflicts) == 3 and report.written is False
    assert sorted(Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value")) == before
    assert history_rows() == []
    assert not NameReservation.objects.exists()


def test_cancel_between_chunks_stops_says_how_much_and_releases_the_names(db, settings):
    settings.ATTRIBUTES_RENAME_CHUNK = 2
    build(10)
    job = rename_start(old="plan", new="billing_plan", actor=None, prefer="new")

    class CancelAfterFirstChunk(logging.Handler):
        def emit(self, record):
            engine.cancel(Job.objects.get(pk=job.pk))

    progress = logging.getLogger("attributes.rename")
    handler, level = CancelAfterFirstChunk(), progress.level
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    try:
        [cancelled] = runner.run_queued()
    finally:
        progress.removeHandler(handler)
        progress.setLevel(level)

    assert (cancelled.status, cancelled.done, cancelled.total) == (Job.Status.CANCELLED, 2, 10)
    assert cancelled.result["renamed"] + cancelled.result["merged"] == 2
    assert len(values("billing_plan")) == 7  # 6 had it, customer 0 got it; customer 1 was merged
    assert len(values("plan")) == 8
    assert not NameReservation.objects.exists()
    assert attribute_upsert(customer=make_customer(), name="plan", value="free again", actor=None).created


@pytest.fixture
def held(db):
    """A rename job running and holding plan and billing_plan (as after its reservation), and a customer."""
    customer = make_customer(customer_name="Held")
    attribute = make_attribute(customer, "plan", "p")
    job = rename_start(old="plan", new="billing_plan", actor=None)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    _reserve(job, ["plan", "billing_plan"])
    return customer, attribute


BUSY = "“plan” is being renamed across customers right now; try again when the rename has finished."


def test_api_writes_of_a_held_name_are_409_with_retry_after_and_change_nothing(api, held):
    customer, attribute = held
    client = api(VIEW, "create_customer_attribute", UPDATE, DELETE)
    history_before = Attribute.history.count()

    put = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "plan", "attribute_value": "new"},
        format="json",
    )
    patch = client.patch(f"/crm/attribute/attribute_id/{attribute.pk}", {"attribute_value": "new"}, format="json")
    rename_onto = client.patch(
        f"/crm/attribute/attribute_id/{make_attribute(customer, 'other').pk}",
        {"attribute_name": "billing_plan"},
        format="json",
    )
    delete = client.delete(f"/crm/attribute/attribute_id/{attribute.pk}")
    bulk = client.put(
        "/crm/attribute/bulk",
        [
            {"customer_id": customer.pk, "attribute_name": "free", "attribute_value": "1"},
            {"customer_id": customer.pk, "attribute_name": "billing_plan", "attribute_value": "1"},
        ],
        format="json",
    )

    for response in (put, patch, delete, bulk, rename_onto):
        assert (response.status_code, response["Retry-After"]) == (409, "5"), response.content
    assert put.json() == patch.json() == delete.json() == {"detail": BUSY}
    assert bulk.json() == rename_onto.json() == {"detail": BUSY.replace("“plan”", "“billing_plan”")}
    assert values("plan") == {customer.pk: "p"} and values("billing_plan") == {} and values("free") == {}
    assert Attribute.history.count() == history_before + 1  # only make_attribute's "other"


def test_writes_of_other_names_go_through_while_the_names_are_held(api, held):
    customer, _ = held
    client = api(VIEW, "create_customer_attribute", UPDATE, DELETE)

    put = client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "tier", "attribute_value": "gold"},
        format="json",
    )
    bulk = client.put(
        "/crm/attribute/bulk",
        [{"customer_id": customer.pk, "attribute_name": "x", "attribute_value": "1"}],
        format="json",
    )

    assert (put.status_code, bulk.status_code) == (201, 200)
    assert values("tier") == {customer.pk: "gold"}


def test_the_tab_refuses_a_held_name_with_the_message_and_says_it_is_being_renamed(client, login, held):
    customer, _ = held
    login(*RENAMER, "view_customer")

    tab = client.get(f"/customers/{customer.pk}/attributes/")
    response = client.post(
        f"/customers/{customer.pk}/attributes/add/", {"attribute_name": "billing_plan", "attribute_value": "v"}
    )

    assert "being renamed across customers" in tab.content.decode()
    assert response.status_code == 200
    assert BUSY.replace("“plan”", "“billing_plan”") in response.content.decode()
    assert values("billing_plan") == {}


def test_an_import_naming_a_held_name_is_refused_whole(held):
    customer, _ = held

    report = attribute_import(
        rows=[(2, customer.pk, "fine", "1"), (3, customer.pk, "plan", "2")], actor=None, dry_run=False
    )

    assert report.written is False
    assert [(e.index, e.field, e.message) for e in report.rejected] == [(3, "attribute_name", BUSY)]
    assert values("fine") == {} and values("plan") == {customer.pk: "p"}


def test_the_usage_page_names_the_names_being_renamed(client, login, held):
    login(VIEW)

    html = client.get("/attributes/usage/").content.decode()

    assert 'id="being-renamed"' in html and '<span class="font-monospace">billing_plan</span>' in html


def test_a_second_rename_of_a_held_name_is_refused(held):
    with pytest.raises(ValidationError, match="being renamed"):
        rename_start(old="billing_plan", new="plan_b", actor=None)
