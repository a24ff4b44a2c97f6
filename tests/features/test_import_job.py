"""The import job ("attributes.import") in-process: chunked writes equal the one-transaction import, rejects fail
the job and write nothing, rows that changed meanwhile are skipped, and its result page fragment."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory

from attributes import csvio, services
from attributes.models import Attribute
from jobs import engine, runner
from jobs.models import Job
from tests.factories import make_attribute, make_customer, make_user

from .conftest import CREATE, UPDATE, VIEW

pytestmark = pytest.mark.django_db
HEADER = "customer_id,attribute_name,attribute_value\n"
History = Attribute.history.model


def rows_and_history() -> tuple[list, list]:
    rows = sorted(Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value"))
    history = sorted(
        History.objects.values_list(
            "customer_id", "attribute_name", "attribute_value", "history_type", "operation", "previous_value"
        )
    )
    return rows, history


@pytest.fixture
def customers():
    first, second = make_customer(customer_name="Acme Fiber"), make_customer(customer_name="Beta Net")
    make_attribute(first, "support_tier", "gold")
    make_attribute(first, "region", "north")
    make_attribute(second, "support_tier", "silver")
    return first, second


@pytest.fixture
def ten_rows(customers) -> str:
    first, second = customers
    return HEADER + "".join(
        [
            f"{second.pk},zeta,1\n",
            f"{first.pk},support_tier,platinum\n",  # updated
            f"{first.pk},region,north\n",  # unchanged
            f"{second.pk},support_tier,silver\n",  # unchanged
            f"{first.pk},alpha,a\n",
            f"{second.pk},alpha,b\n",
            f"{first.pk},  beta  ,  spaced  \n",  # trimmed, as every write path does
            f"{second.pk},gamma,'=1+1\n",  # an export's neutralized formula
            f"{first.pk},delta,d\n",
            f"{second.pk},delta,e\n",
        ]
    )


def test_a_chunked_import_writes_the_same_rows_and_history_as_one_transaction(settings, ten_rows):
    with transaction.atomic():
        report = csvio.run_import(ten_rows, actor=None, dry_run=False)  # the import as it was: one transaction
        assert (report.created, report.updated, report.unchanged, report.written) == (7, 1, 2, True)
        expected = rows_and_history()
        transaction.set_rollback(True)
    settings.ATTRIBUTES_IMPORT_CHUNK = 3

    job = services.import_start(text=ten_rows, actor=None, filename="ten.csv")
    [ran] = runner.run_queued()

    assert rows_and_history() == expected
    assert (ran.status, ran.done, ran.total, ran.checkpoint) == (Job.Status.SUCCEEDED, 10, 10, {"row": 10})
    assert ran.result == {
        "created": 7,
        "updated": 1,
        "unchanged": 2,
        "rejected": [],
        "skipped": [],
        "filename": "ten.csv",
    }
    assert History.objects.filter(operation="import").count() == 8  # one per created or updated attribute
    assert ran.pk == job.pk


def test_a_file_with_a_rejected_row_fails_the_job_with_the_report_and_writes_nothing(settings, customers):
    first, _ = customers
    settings.ATTRIBUTES_IMPORT_CHUNK = 2
    before = rows_and_history()
    text = HEADER + f"{first.pk},support_tier,platinum\n{first.pk},Bad Name,x\n{first.pk},fine,y\n999999,a,b\n"

    services.import_start(text=text, actor=None, filename="bad.csv")
    [job] = runner.run_queued()

    assert (job.status, job.error, job.done) == (Job.Status.FAILED, "2 rows rejected; nothing imported", 0)
    preview = csvio.run_import(text, actor=None, dry_run=True)  # exactly the dry run's rejects
    expected = [{"line": e.index, "field": e.field, "message": e.message} for e in preview.rejected]
    assert job.result["rejected"] == expected
    assert [(r["line"], r["field"]) for r in job.result["rejected"]] == [(3, "attribute_name"), (5, "customer_id")]
    assert (job.result["created"], job.result["updated"]) == (1, 1)  # what the valid rows would have done
    assert rows_and_history() == before


def test_a_row_whose_customer_vanished_after_validation_is_skipped_and_the_rest_written(settings, customers):
    first, second = customers
    settings.ATTRIBUTES_IMPORT_CHUNK = 2
    text = HEADER + f"{first.pk},plan,a\n{second.pk},plan,b\n{first.pk},zone,c\n"
    job = services.import_start(text=text, actor=None, filename="f.csv")
    # As when a run validated the file and wrote nothing yet, then the customer was deleted before the chunk.
    Job.objects.filter(pk=job.pk).update(checkpoint={"row": 0})
    second.delete()

    [ran] = runner.run_queued()

    assert ran.status == Job.Status.SUCCEEDED
    assert ran.result["skipped"] == [{"line": 3, "field": "customer_id", "message": "No customer with this id."}]
    assert (ran.result["created"], ran.done, ran.total) == (2, 3, 3)
    assert set(first.attributes.values_list("attribute_name", "attribute_value")) >= {("plan", "a"), ("zone", "c")}


def test_a_file_whose_format_breaks_after_the_header_fails_the_job(customers):
    first, _ = customers
    services.import_start(text=HEADER + f'{first.pk},a,b\n{first.pk},a,"unclosed\n' + "x" * 200_000, actor=None)

    [job] = runner.run_queued()

    assert job.status == Job.Status.FAILED
    assert job.error.startswith("The file is not valid CSV")


def test_a_text_without_the_header_starts_nothing(db):
    with pytest.raises(csvio.CsvFormatError, match="missing: attribute_value"):
        services.import_start(text="customer_id,attribute_name\n1,a\n", actor=None)

    assert not Job.objects.exists()


def test_starting_needs_create_and_update_permission(customers):
    with pytest.raises(PermissionDenied, match="update_customer_attribute"):
        services.import_start(text=HEADER, actor=make_user(VIEW, CREATE))

    assert not Job.objects.exists()


def test_permission_revoked_before_the_job_runs_fails_it_and_writes_nothing(customers):
    first, _ = customers
    user = make_user(VIEW, CREATE, UPDATE)
    services.import_start(text=HEADER + f"{first.pk},plan,a\n", actor=user)
    user.user_permissions.remove(Permission.objects.get(codename=UPDATE))

    [job] = runner.run_queued()

    assert job.status == Job.Status.FAILED
    assert "update_customer_attribute" in job.error
    assert not first.attributes.filter(attribute_name="plan").exists()


def test_a_deleted_starter_fails_the_job_instead_of_running_it_as_the_system(customers):
    first, _ = customers
    user = make_user(VIEW, CREATE, UPDATE)
    services.import_start(text=HEADER + f"{first.pk},plan,a\n", actor=user)
    user.delete()

    [job] = runner.run_queued()

    assert job.status == Job.Status.FAILED
    assert "no longer exists" in job.error
    assert not first.attributes.filter(attribute_name="plan").exists()


def test_history_records_who_and_the_channel_the_import_came_from(customers):
    from attributes.history import write_channel

    first, _ = customers
    user = make_user(VIEW, CREATE, UPDATE, username="ops")
    with write_channel("cli"):
        services.import_start(text=HEADER + f"{first.pk},plan,a\n", actor=user)
    runner.run_queued()  # in a worker: no request, another channel

    entry = History.objects.get(attribute_name="plan")
    assert (entry.operation, entry.channel, entry.actor_name, entry.history_user) == ("import", "cli", "ops", user)


def _fragment(job: Job, user) -> str:
    from attributes.permissions import Can

    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(engine.kind(job.kind).result_template, {"job": job, "can": Can(user)}, request=request)


def test_the_result_fragment_shows_counts_rejects_and_links(customers):
    first, _ = customers
    user = make_user("view_customer", VIEW, CREATE, UPDATE)
    services.import_start(text=HEADER + f"{first.pk},plan,a\n", actor=user, filename="good.csv")
    services.import_start(text=HEADER + f"{first.pk},Bad Name,<script>x</script>\n", actor=user, filename="bad.csv")
    good, bad = runner.run_queued()

    shown = _fragment(good, user)
    assert "good.csv" in shown and 'data-count="created">1<' in shown and "Imported 1 row." in shown
    assert 'href="/attributes/import/"' in shown and 'href="/customers/"' in shown
    refused = _fragment(bad, user)
    assert "1 row rejected; nothing imported" in refused
    assert '<td class="nowrap">2</td>' in refused and "Bad Name" in refused
    assert "<script>" not in refused


def test_the_result_fragment_of_a_cancelled_import_says_what_was_written(customers):
    first, _ = customers
    user = make_user("view_customer", VIEW, CREATE, UPDATE)
    job = services.import_start(text=HEADER + f"{first.pk},plan,a\n", actor=user)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.CANCELLED,
        done=1000,
        total=5000,
        result={"created": 700, "updated": 200, "unchanged": 100, "rejected": [], "skipped": [], "filename": "x"},
    )
    job.refresh_from_db()

    shown = _fragment(job, user)

    assert "Cancelled after 1000 of 5000 rows" in shown
    assert 'data-count="created">700<' in shown
