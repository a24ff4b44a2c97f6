"""`manage.py import_attributes FILE [--dry-run] [--background] [--user USERNAME]`: an import job run in the
foreground (or only started), with progress and rejects; a file with any rejected row writes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from attributes.models import Attribute
from jobs import runner
from jobs.models import Job
from tests.factories import make_attribute, make_customer, make_user

from .conftest import CREATE, UPDATE

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_attributes", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Attribute.objects.order_by("pk").values_list(
            "customer_id", "attribute_name", "attribute_value", "last_modified"
        )
    )


@pytest.fixture
def customer():
    customer = make_customer(customer_name="Acme Fiber")
    make_attribute(customer, "support_tier", "gold")
    return customer


@pytest.fixture
def good_file(tmp_path, customer):
    path = tmp_path / "attributes.csv"
    path.write_text(
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},support_tier,platinum\n"
        f"{customer.pk},billing_plan,annual\n",
        encoding="utf-8",
    )
    return path


def test_dry_run_reports_counts_and_writes_nothing(good_file, customer):
    before = snapshot()

    out, _ = run(str(good_file), "--dry-run")

    assert "Checked, nothing written: 1 created, 1 updated, 0 unchanged, 0 rejected." in out
    assert snapshot() == before


def test_real_run_runs_the_import_job_here_and_writes_every_row(good_file, customer):
    out, _ = run(str(good_file))

    assert "Imported: 1 created, 1 updated, 0 unchanged, 0 rejected." in out
    assert dict(customer.attributes.values_list("attribute_name", "attribute_value")) == {
        "support_tier": "platinum",
        "billing_plan": "annual",
    }
    job = Job.objects.get()
    assert (job.kind, job.status, job.done, job.total) == ("attributes.import", Job.Status.SUCCEEDED, 2, 2)
    assert f"Import complete (job {job.pk})." in out
    assert job.params["filename"] == "attributes.csv"


def test_background_only_starts_the_job_and_prints_its_id(good_file, customer):
    out, _ = run(str(good_file), "--background")

    job = Job.objects.get()
    assert job.status == Job.Status.QUEUED
    assert out.splitlines()[-1] == str(job.pk)
    assert customer.attributes.get(attribute_name="support_tier").attribute_value == "gold"  # a worker runs it
    runner.run_queued()
    assert customer.attributes.get(attribute_name="support_tier").attribute_value == "platinum"


def test_rejected_rows_are_listed_and_nothing_is_written(tmp_path, customer):
    path = tmp_path / "bad.csv"
    path.write_text(
        "customer_id,attribute_name,attribute_value\n"
        f"{customer.pk},support_tier,platinum\n"
        f"{customer.pk},Bad Name,x\n"
        "nope,region,north\n",
        encoding="utf-8",
    )
    before = snapshot()
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"2 row\(s\) rejected; nothing was written"):
        call_command("import_attributes", str(path), stdout=out, stderr=io.StringIO())

    assert "line 3: attribute_name: “Bad Name” is not a valid attribute name" in out.getvalue()
    assert "line 4: customer_id: Must be a customer id (a positive integer)." in out.getvalue()
    assert snapshot() == before
    assert Job.objects.get().status == Job.Status.FAILED


def test_dry_run_lists_rejected_rows_and_starts_no_job(tmp_path, customer):
    path = tmp_path / "bad.csv"
    path.write_text(f"customer_id,attribute_name,attribute_value\n{customer.pk},Bad Name,x\n", encoding="utf-8")
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"1 row\(s\) rejected"):
        call_command("import_attributes", str(path), "--dry-run", stdout=out, stderr=io.StringIO())

    assert "line 2: attribute_name:" in out.getvalue()
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_read_from_the_job_and_ends_at_every_row(tmp_path):
    customer = make_customer(customer_name="Acme Fiber")
    path = tmp_path / "many.csv"
    path.write_text(
        "customer_id,attribute_name,attribute_value\n"
        + "".join(f"{customer.pk},name_{n},value {n}\n" for n in range(25)),
        encoding="utf-8",
    )

    _, err = run(str(path), "--chunk-size", "10")

    lines = [line for line in err.split("\r") if line.startswith("[")]
    shown = [int(line.split("] ")[1].split("/")[0]) for line in lines]
    assert shown == sorted(set(shown)), shown  # never backwards, never the same twice
    assert lines[-1].strip() == "[" + "#" * 30 + "] 25/25 rows (100%)"
    assert set(shown) <= {10, 20, 25}  # only committed chunks
    assert customer.attributes.count() == 25
    assert Job.objects.get().checkpoint == {"row": 25}


def test_user_option_acts_as_that_user(good_file, customer):
    make_user(CREATE, UPDATE, username="importer")

    out, _ = run(str(good_file), "--user", "importer")

    assert "Imported:" in out


def test_user_without_update_permission_is_refused(good_file, customer):
    make_user(CREATE, username="creator")
    before = snapshot()

    with pytest.raises(CommandError, match="update_customer_attribute"):
        run(str(good_file), "--user", "creator")

    assert snapshot() == before


def test_unknown_user_is_refused(good_file):
    with pytest.raises(CommandError, match="No user named “ghost”"):
        run(str(good_file), "--user", "ghost")


def test_missing_file_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "absent.csv"))


def test_non_utf8_file_is_refused(tmp_path, customer):
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"customer_id,attribute_name,attribute_value\n{customer.pk},city,Zürich\n".encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8"):
        run(str(path))


def test_missing_header_column_is_refused(tmp_path, customer):
    path = tmp_path / "short.csv"
    path.write_text(f"customer_id,attribute_name\n{customer.pk},support_tier\n", encoding="utf-8")

    with pytest.raises(CommandError, match="missing: attribute_value"):
        run(str(path))
