"""prune_history: deletes only rows older than the retention, in batches of its own transaction each."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attributes.models import Attribute
from tests.factories import make_attribute, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Five history rows 40 days old, three from today."""
    customer = make_customer()
    old = [make_attribute(customer, f"old_{i}", "v") for i in range(5)]
    Attribute.history.filter(attribute_id__in=[a.pk for a in old]).update(
        history_date=timezone.now() - timedelta(days=40)
    )
    recent = [make_attribute(customer, f"new_{i}", "v") for i in range(3)]
    return old, recent


def remaining() -> list[str]:
    return sorted(Attribute.history.values_list("attribute_name", flat=True))


def deletes(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE") and "historical" in q["sql"]]


def test_prune_deletes_old_rows_in_batches_and_keeps_recent_ones(history, capsys):
    with CaptureQueriesContext(connection) as queries:
        call_command("prune_history", "--days", "30", "--batch", "2")

    assert remaining() == ["new_0", "new_1", "new_2"]
    assert len(deletes(queries)) == 3  # 2 + 2 + 1 rows
    savepoints = [q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) >= 3  # one transaction per batch (savepoints inside the test's transaction)
    out = capsys.readouterr().out
    assert "deleted 2 (total 2)" in out and "deleted 1 (total 5)" in out
    assert "Deleted 5 history rows" in out


def test_prune_uses_the_setting(history, settings):
    settings.HISTORY_RETENTION_DAYS = 30

    call_command("prune_history")

    assert remaining() == ["new_0", "new_1", "new_2"]


def test_prune_keeps_everything_without_a_retention(history, settings, capsys):
    settings.HISTORY_RETENTION_DAYS = None

    call_command("prune_history")

    assert len(remaining()) == 8
    assert "all history is kept" in capsys.readouterr().out


def test_prune_never_touches_rows_within_the_retention(history):
    call_command("prune_history", "--days", "41")

    assert len(remaining()) == 8


def test_dry_run_changes_nothing(history, capsys):
    with CaptureQueriesContext(connection) as queries:
        call_command("prune_history", "--days", "30", "--dry-run")

    assert len(remaining()) == 8
    assert deletes(queries) == []
    assert "5 history rows" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["--days", "0"], ["--days", "30", "--batch", "0"]])
def test_prune_refuses_bad_arguments(history, args):
    with pytest.raises(CommandError):
        call_command("prune_history", *args)
    assert len(remaining()) == 8
