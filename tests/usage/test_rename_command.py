"""python manage.py rename_attribute OLD NEW [--dry-run] [--prefer old|new]."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from attributes.models import Attribute
from tests.factories import make_user

from .conftest import DELETE, REGISTRY, UPDATE, VIEW, snapshot, values


def run(*args: str) -> str:
    out = StringIO()
    call_command("rename_attribute", *args, stdout=out)
    return out.getvalue()


def test_command_renames_and_prints_counts(dataset):
    output = run("tier", "service_tier")

    assert "tier -> service_tier: 2 renamed, 0 merged, 0 conflicts, 0 invalid." in output
    assert "Rename complete." in output
    assert values("service_tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}
    assert set(Attribute.history.filter(operation="rename_all").values_list("channel", "history_user")) == {
        ("cli", None)
    }


def test_command_refuses_conflicts_listing_each_and_naming_prefer(dataset):
    before = snapshot()
    out = StringIO()

    with pytest.raises(CommandError, match="--prefer"):
        call_command("rename_attribute", "billing_methods", "billing_method", stdout=out)

    assert f"conflict: customer {dataset.c2.pk}: billing_methods='card', billing_method='invoice'" in out.getvalue()
    assert snapshot() == before


def test_command_prefer_old_resolves_conflicts(dataset):
    output = run("billing_methods", "billing_method", "--prefer", "old")

    assert "0 renamed, 1 merged, 0 conflicts" in output
    assert values("billing_method")[dataset.c2.pk] == "card"
    assert values("billing_methods") == {}


def test_command_dry_run_writes_nothing(dataset):
    before = snapshot()

    output = run("billingmethod", "billing_method", "--dry-run")

    assert "0 renamed, 1 merged" in output
    assert "Dry run: nothing written." in output
    assert snapshot() == before


def test_command_rejects_invalid_name(dataset):
    with pytest.raises(CommandError, match="not a valid attribute name"):
        run("tier", "Service-Tier")


def test_command_as_a_user_needs_the_registry_permission_as_the_page_does(dataset):
    make_user(VIEW, UPDATE, DELETE, username="clerk")
    before = snapshot()

    with pytest.raises(CommandError, match="manage_attribute_registry"):
        run("tier", "service_tier", "--user", "clerk")

    assert snapshot() == before


def test_command_as_a_user_with_the_registry_permission_renames_and_records_them(dataset):
    user = make_user(VIEW, UPDATE, DELETE, REGISTRY, username="steward")

    output = run("tier", "service_tier", "--user", "steward")

    assert "Rename complete." in output
    assert set(Attribute.history.filter(operation="rename_all").values_list("channel", "history_user")) == {
        ("cli", user.pk)
    }


def test_command_names_an_unknown_user(dataset):
    with pytest.raises(CommandError, match="No user named “nobody”"):
        run("tier", "service_tier", "--user", "nobody")


def test_command_runs_the_job_here_printing_progress_per_chunk(dataset, settings):
    settings.ATTRIBUTES_RENAME_CHUNK = 1

    output = run("billing_method", "payment_method")

    assert "Started job " in output and "running it here" in output
    assert [line for line in output.splitlines() if line.startswith("rename ")] == [
        f"rename billing_method -> payment_method: {n} of 3 customers" for n in (1, 2, 3)
    ]
    assert "Rename complete." in output
    assert len(values("payment_method")) == 3


def test_command_background_only_starts_the_job(dataset):
    from jobs.models import Job

    output = run("tier", "service_tier", "--background")

    job = Job.objects.get()
    assert output == f"Started job {job.pk}: python manage.py run_worker runs it.\n"
    assert job.status == Job.Status.QUEUED and values("service_tier") == {}
