"""`manage.py seed_demo`: idempotent demo customers, and a demo login only when DEBUG is on."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attributes.models import Attribute
from customers.models import Customer


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "attributes": Attribute.objects.count(),
        "users": User.objects.count(),
    }


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@pytest.fixture
def debug_off(settings):
    settings.DEBUG = False


def test_creates_the_requested_number_of_customers_with_attributes(db, debug_off):
    output = seed("--customers", "12")

    assert sorted(Customer.objects.values_list("customer_id", flat=True)) == list(range(1, 13))
    assert all(customer.attributes.count() >= 3 for customer in Customer.objects.all())
    assert "Demo customers: 12 created, 0 already there." in output


def test_second_run_changes_nothing(db, debug_on):
    seed("--customers", "12")
    before = counts()
    attributes_before = set(Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value"))

    output = seed("--customers", "12")

    assert counts() == before
    assert set(Attribute.objects.values_list("customer_id", "attribute_name", "attribute_value")) == attributes_before
    assert "Demo customers: 0 created, 12 already there." in output


def test_rerun_keeps_edits_made_in_the_demo(db, debug_off):
    seed("--customers", "3")
    Customer.objects.filter(pk=1).update(customer_name="Renamed by a user")
    attribute = Attribute.objects.filter(customer_id=2).first()
    Attribute.objects.filter(pk=attribute.pk).update(attribute_value="edited")

    seed("--customers", "3")

    assert Customer.objects.get(pk=1).customer_name == "Renamed by a user"
    assert Attribute.objects.get(pk=attribute.pk).attribute_value == "edited"


def test_existing_customer_with_a_demo_id_is_kept(db, debug_off):
    Customer.objects.create(customer_id=2, customer_name="Real customer")

    output = seed("--customers", "3")

    assert Customer.objects.get(pk=2).customer_name == "Real customer"
    assert Customer.objects.count() == 3
    assert "Demo customers: 2 created, 1 already there." in output


def test_larger_run_adds_only_the_missing_customers(db, debug_off):
    seed("--customers", "5")

    output = seed("--customers", "8")

    assert Customer.objects.count() == 8
    assert "Demo customers: 3 created, 5 already there." in output


def test_customers_created_after_seeding_get_fresh_ids(db, debug_off):
    """Explicit ids must not leave PostgreSQL's sequence behind (the next insert would collide)."""
    seed("--customers", "5")

    created = Customer.objects.create(customer_name="Added later")

    assert created.customer_id > 5


def test_demo_superuser_is_created_and_printed_when_debug_is_on(client, db, debug_on):
    output = seed("--customers", "2")

    user = User.objects.get(username="demo")
    assert user.is_superuser and user.is_staff
    assert "Demo login: username 'demo', password 'demo-password'" in output
    response = client.post("/accounts/login/", {"username": "demo", "password": "demo-password"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_demo_superuser_is_created_once(db, debug_on):
    seed("--customers", "2")
    seed("--customers", "2")

    assert User.objects.filter(username="demo").count() == 1


def test_no_demo_login_when_debug_is_off(db, debug_off):
    output = seed("--customers", "2")

    assert not User.objects.exists()
    assert "demo-password" not in output
    assert "DEBUG is off: no demo login created." in output


def test_zero_customers_creates_none(db, debug_off):
    output = seed("--customers", "0")

    assert not Customer.objects.exists()
    assert "Demo customers: 0 created, 0 already there." in output


@pytest.mark.parametrize("value", ["-1", "-100"])
def test_negative_customer_count_is_an_error(db, debug_off, value):
    with pytest.raises(CommandError, match="--customers must be 0 or more"):
        seed("--customers", value)

    assert not Customer.objects.exists()


def test_non_numeric_customer_count_is_an_error(db, debug_off):
    with pytest.raises(CommandError, match="invalid int value"):
        seed("--customers", "many")


@pytest.mark.parametrize("value", ["0", "-5"])
def test_batch_size_below_one_is_an_error(db, debug_off, value):
    with pytest.raises(CommandError, match="--batch-size must be 1 or more"):
        seed("--customers", "5", "--batch-size", value)


def test_large_runs_show_progress(db, debug_off):
    output = seed("--customers", "30", "--batch-size", "3")

    assert "customers         3/30 (10%)" in output
    assert "customers        30/30 (100%)" in output
    assert Customer.objects.count() == 30


def test_small_runs_print_no_progress(db, debug_off):
    assert "%)" not in seed("--customers", "5")


def test_inserts_in_bulk_not_row_by_row(db, debug_off):
    """A handful of queries per batch, not one per customer or attribute: 100,000 customers take seconds."""
    with CaptureQueriesContext(connection) as queries:
        seed("--customers", "300")

    assert Customer.objects.count() == 300
    assert Attribute.objects.count() > 900
    assert len(queries) < 100  # a fixed handful per chunk of 1000 attributes (customers, lookups, inserts, history)
