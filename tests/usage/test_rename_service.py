"""attribute_rename_all on the known data set: rename, merge, conflict refusal, prefer, dry run, registry types."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from attributes.models import Attribute, AttributeDefinition
from attributes.services import attribute_rename_all
from tests.factories import make_user

from .conftest import DELETE, REGISTRY, UPDATE, VIEW, run_rename, snapshot, values


def history(**filters):
    return Attribute.history.filter(**filters).order_by("history_id")


def test_plain_rename_moves_every_customer_and_records_history_per_attribute(dataset):
    ids = sorted(Attribute.objects.filter(attribute_name="tier").values_list("pk", flat=True))

    report = run_rename(old="tier", new="service_tier", actor=None)

    assert (report.renamed, report.merged, report.conflicts, report.invalid, report.written) == (2, 0, [], [], True)
    assert values("tier") == {}
    assert values("service_tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}
    assert sorted(Attribute.objects.filter(attribute_name="service_tier").values_list("pk", flat=True)) == ids
    rows = history(operation="rename_all")
    assert sorted(rows.values_list("attribute_id", flat=True)) == ids
    assert {(r.attribute_name, r.previous_name, r.history_type) for r in rows} == {("service_tier", "tier", "~")}


def test_merge_with_equal_values_keeps_the_new_name_and_deletes_the_old(dataset):
    old_pk = Attribute.objects.get(attribute_name="billingmethod").pk

    report = run_rename(old="billingmethod", new="billing_method", actor=None)

    assert (report.renamed, report.merged, report.written) == (0, 1, True)
    assert values("billingmethod") == {}
    assert values("billing_method") == {dataset.c1.pk: "invoice", dataset.c2.pk: "invoice", dataset.c3.pk: "card"}
    deleted = history(attribute_id=old_pk, history_type="-").get()
    assert (deleted.operation, deleted.attribute_name, deleted.attribute_value) == ("merge", "billingmethod", "invoice")


def test_conflict_refuses_and_changes_nothing(dataset):
    before, history_before = snapshot(), Attribute.history.count()

    report = run_rename(old="billing_methods", new="billing_method", actor=None)

    assert report.conflicts == [(dataset.c2.pk, "card", "invoice")]
    assert report.written is False
    assert snapshot() == before
    assert Attribute.history.count() == history_before


def test_prefer_old_takes_the_old_value(dataset):
    report = run_rename(old="billing_methods", new="billing_method", actor=None, prefer="old")

    assert (report.merged, report.conflicts, report.written) == (1, [], True)
    assert values("billing_methods") == {}
    assert values("billing_method")[dataset.c2.pk] == "card"
    changed = history(operation="merge", history_type="~").get()
    assert (changed.attribute_value, changed.previous_value) == ("card", "invoice")


def test_prefer_new_keeps_the_new_value(dataset):
    report = run_rename(old="billing_methods", new="billing_method", actor=None, prefer="new")

    assert (report.merged, report.written) == (1, True)
    assert values("billing_methods") == {}
    assert values("billing_method")[dataset.c2.pk] == "invoice"


def test_dry_run_reports_and_changes_nothing(dataset):
    before, history_before = snapshot(), Attribute.history.count()

    report = attribute_rename_all(old="billing_method", new="payment_method", actor=None, dry_run=True)

    assert (report.renamed, report.merged, report.written) == (3, 0, False)
    assert snapshot() == before
    assert Attribute.history.count() == history_before


def test_value_invalid_for_the_new_names_registry_type_refuses(dataset):
    AttributeDefinition.objects.create(name="legacy_number", value_type="integer")
    before = snapshot()

    report = run_rename(old="legacy_id", new="legacy_number", actor=None)

    assert report.written is False
    [(customer_id, message)] = report.invalid
    assert customer_id == dataset.c3.pk
    assert "legacy_number" in message and "whole number" in message
    assert snapshot() == before


def test_invalid_new_name_is_a_validation_error(dataset):
    with pytest.raises(ValidationError) as error:
        run_rename(old="tier", new="Service Tier", actor=None)

    assert "new" in error.value.message_dict


@pytest.mark.parametrize(("perms", "missing"), [((VIEW, UPDATE, REGISTRY), DELETE), ((VIEW, DELETE, REGISTRY), UPDATE)])
def test_rename_needs_update_and_delete_permission(dataset, perms, missing):
    with pytest.raises(PermissionDenied, match=missing):
        run_rename(old="tier", new="service_tier", actor=make_user(*perms))

    assert values("tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}


@pytest.mark.parametrize("dry_run", [False, True])
def test_rename_needs_the_registry_permission_as_the_page_does(dataset, dry_run):
    with pytest.raises(PermissionDenied, match="manage_attribute_registry"):
        (attribute_rename_all if dry_run else run_rename)(
            old="tier", new="service_tier", actor=make_user(VIEW, UPDATE, DELETE)
        )

    assert values("tier") == {dataset.c1.pk: "gold", dataset.c2.pk: "silver"}
    assert values("service_tier") == {}


def test_rename_by_a_user_records_who(dataset):
    user = make_user(VIEW, UPDATE, DELETE, REGISTRY)

    run_rename(old="legacy_id", new="old_system_id", actor=user)

    row = history(operation="rename_all").get()
    assert (row.history_user, row.actor_name) == (user, user.username)
