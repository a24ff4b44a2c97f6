"""The usage summary's refresh: only changed names are recomputed, and writes, deletes and renames show up."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attributes import services
from attributes.models import Attribute, AttributeNameUsage, UsageState
from attributes.selectors import usage_report
from jobs.models import Job
from tests.factories import bearer_client, make_attribute, make_customer, make_user

from .conftest import VIEW, refresh, run_rename

PAGE = "/attributes/usage/"
API = "/crm/attribute/usage"


def figure_queries(queries) -> list[str]:
    """The per-name figure queries a refresh ran (one per name it recomputed). A statement psycopg ran prepared
    (crm_project/rawrows.py, e.g. the registry lookup the sensitive check makes per name) is captured without its
    SQL (None); the figure queries are ORM queries and always have theirs."""
    return [q["sql"] for q in queries.captured_queries if "GROUP BY attribute_value" in (q["sql"] or "")]


def summary() -> dict[str, tuple]:
    return {u.name: (u.customers, u.distinct_values, u.top_values) for u in AttributeNameUsage.objects.all()}


def test_first_refresh_computes_every_name(dataset):
    result = refresh()

    assert result == {"names": 5, "full": True, "near_duplicate_groups": 1}
    assert set(summary()) == {"billing_method", "billing_methods", "billingmethod", "legacy_id", "tier"}
    assert UsageState.objects.get().near_duplicates == [["billing_method", "billing_methods", "billingmethod"]]


def test_refresh_recomputes_only_the_names_written_since(dataset):
    refresh()
    old = timezone.now() - timedelta(hours=1)
    Attribute.history.update(history_date=old)  # the data set's writes are long past
    make_attribute(dataset.c3, "tier", "gold")

    with CaptureQueriesContext(connection) as queries:
        result = refresh()

    assert result["full"] is False and result["names"] == 1
    assert len(figure_queries(queries)) == 1
    assert summary()["tier"] == (3, 2, [["gold", 2], ["silver", 1]])


def test_refresh_with_nothing_written_recomputes_nothing(dataset):
    refresh()
    Attribute.history.update(history_date=timezone.now() - timedelta(hours=1))

    with CaptureQueriesContext(connection) as queries:
        assert refresh()["names"] == 0

    assert figure_queries(queries) == []


def test_write_shows_up_after_a_refresh_and_not_before(dataset):
    refresh()
    make_attribute(dataset.c3, "billing_method", "invoice")
    make_attribute(dataset.c1, "brand_new", "x")

    assert "brand_new" not in summary()  # as of the last refresh
    refresh()

    report = usage_report()
    assert {u.name: u.top_values for u in report.names}["billing_method"] == [("invoice", 3)]
    assert "brand_new" in {u.name for u in report.names}
    assert report.as_of == UsageState.objects.get().refreshed_at


def test_deleting_the_last_attribute_of_a_name_removes_it(dataset):
    refresh()
    services.attribute_delete(attribute=Attribute.objects.get(attribute_name="legacy_id"), actor=None)

    refresh()

    assert "legacy_id" not in summary()
    assert "legacy_id" not in usage_report().undefined


def test_deleting_a_customer_removes_its_only_names(dataset):
    refresh()
    dataset.c3.delete()  # takes its history with it: the names are marked stale instead

    refresh()

    assert "legacy_id" not in summary()
    assert summary()["billing_method"][:2] == (2, 1)


def test_rename_moves_the_figures_to_the_new_name(dataset):
    refresh()
    run_rename(old="billingmethod", new="billing_mode", actor=None)

    refresh()

    assert "billingmethod" not in summary() and summary()["billing_mode"][0] == 1
    assert UsageState.objects.get().near_duplicates == [["billing_method", "billing_methods"]]


def test_full_refresh_command_recomputes_every_name(dataset, capsys):
    refresh()
    AttributeNameUsage.objects.filter(name="tier").update(customers=99)  # a stale figure no history explains

    call_command("refresh_usage", "--all")

    assert summary()["tier"][0] == 2
    assert "Refreshed 5 name(s) (all)" in capsys.readouterr().out


def test_refresh_runs_as_a_periodic_job(dataset):
    from jobs import runner

    [job] = [j for j in runner.start_periodic() if j.kind == services.usage.KIND]
    runner.run_queued()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.created_by is None
    assert UsageState.objects.get().refreshed_at is not None
    assert services.usage.KIND not in {j.kind for j in runner.start_periodic()}  # finished less than a minute ago


# --- pages of names, by prefix ---------------------------------------------------------------------------------


@pytest.fixture
def many_names(db):
    customer = make_customer()
    for i in range(150):
        make_attribute(customer, f"name_{i:03d}", "v")
    make_attribute(customer, "other", "v")
    refresh()


def test_page_shows_100_names_a_page(client, login, many_names):
    login(VIEW)

    first = client.get(PAGE)
    second = client.get(PAGE, {"page": 2})

    assert [u.name for u in first.context["report"].names][:2] == ["name_000", "name_001"]
    assert len(first.context["report"].names) == 100 and first.context["report"].total == 151
    assert [u.name for u in second.context["report"].names][-1] == "other"
    assert 'href="?page=2"' in first.content.decode()
    assert "as of" in first.content.decode()


def test_page_searches_by_name_prefix(client, login, many_names):
    login(VIEW)

    response = client.get(PAGE, {"q": "name_14"})

    assert [u.name for u in response.context["report"].names] == [f"name_{i}" for i in range(140, 150)]
    assert "10 names in use" in response.content.decode()
    assert client.get(PAGE, {"q": "na\x00me"}).status_code < 500  # the project refuses NUL in queries: 400


def test_page_before_the_first_refresh_says_so(client, login, db):
    make_attribute(make_customer(), "tier", "gold")
    login(VIEW)

    html = client.get(PAGE).content.decode()

    assert "have not been computed yet" in html


def test_api_pages_names_with_limit_and_offset(many_names):
    api = bearer_client(make_user(VIEW))

    response = api.get(API, {"limit": 50, "offset": 100})

    body = response.json()
    assert [n["attribute_name"] for n in body["names"]][:1] == ["name_100"] and len(body["names"]) == 50
    assert response["X-Total-Count"] == "151" and body["names_count"] == 151
    assert 'rel="next"' in response["Link"] and 'rel="prev"' in response["Link"]
    assert body["as_of"] is not None


def test_api_filters_by_name_prefix(many_names):
    response = bearer_client(make_user(VIEW)).get(API, {"name_prefix": "oth"})

    assert [n["attribute_name"] for n in response.json()["names"]] == ["other"]
    assert response["X-Total-Count"] == "1"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "name"},
        {"page": "2"},
        {"limit": "0"},
        {"offset": "-1"},
        {"name_prefix": "x" * 65},
        {"name_prefix": "a\x00"},
    ],
)
def test_api_refuses_unknown_and_invalid_parameters(db, params):
    response = bearer_client(make_user(VIEW)).get(API, params)

    assert response.status_code == 400
    assert set(response.json()) <= set(params) | {"limit", "offset", "name_prefix", "detail"}  # NUL: the middleware


def test_api_caps_the_page_at_1000(db):
    response = bearer_client(make_user(VIEW)).get(API, {"limit": 5000})

    assert response.status_code == 200 and response.json()["names"] == []
