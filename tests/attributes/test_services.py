"""The one write path: create-or-update by name, update by id (rename included), delete, and their permissions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from attributes import services
from attributes.models import Attribute
from attributes.services import Result
from tests.factories import make_attribute, make_customer, make_user

pytestmark = pytest.mark.django_db

VIEW, CREATE, UPDATE, DELETE = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)


def snapshot(customer) -> list[tuple]:
    return list(
        Attribute.objects.filter(customer=customer)
        .order_by("attribute_id")
        .values_list("attribute_id", "attribute_name", "attribute_value", "created", "last_modified")
    )


# --- attribute_upsert ---------------------------------------------------------------------------------------


def test_upsert_creates_a_new_attribute(customer):
    outcome = services.attribute_upsert(
        customer=customer, name="external_crm_id", value="SF-12345", actor=make_user(CREATE)
    )

    assert outcome.result is Result.CREATED
    assert outcome.created
    stored = Attribute.objects.get(customer=customer)
    assert stored.pk == outcome.attribute.pk
    assert (stored.attribute_name, stored.attribute_value) == ("external_crm_id", "SF-12345")
    assert stored.created == stored.last_modified


def test_upsert_of_an_existing_name_updates_the_same_row(customer):
    actor = make_user(CREATE, UPDATE)
    first = services.attribute_upsert(customer=customer, name="external_crm_id", value="SF-12345", actor=actor)

    second = services.attribute_upsert(customer=customer, name="external_crm_id", value="SF-54321", actor=actor)

    assert second.result is Result.UPDATED
    assert not second.created
    assert second.attribute.attribute_id == first.attribute.attribute_id
    stored = Attribute.objects.get(customer=customer)
    assert stored.attribute_value == "SF-54321"
    assert stored.created == first.attribute.created
    assert stored.last_modified > first.attribute.last_modified


def test_upsert_with_the_same_value_reports_unchanged_and_writes_nothing(customer):
    actor = make_user(CREATE, UPDATE)
    services.attribute_upsert(customer=customer, name="billing_method", value="quarterly", actor=actor)
    before = snapshot(customer)

    outcome = services.attribute_upsert(customer=customer, name="billing_method", value="quarterly", actor=actor)

    assert outcome.result is Result.UNCHANGED
    assert snapshot(customer) == before


def test_upsert_matches_the_existing_name_after_trimming(customer):
    attribute = make_attribute(customer, "billing_method", "monthly")

    outcome = services.attribute_upsert(
        customer=customer, name="  billing_method  ", value=" quarterly ", actor=make_user(CREATE, UPDATE)
    )

    assert outcome.result is Result.UPDATED
    assert outcome.attribute.pk == attribute.pk
    assert Attribute.objects.get(customer=customer).attribute_value == "quarterly"


def test_upsert_of_a_new_name_requires_create_permission(customer):
    with pytest.raises(PermissionDenied, match="create_customer_attribute"):
        services.attribute_upsert(customer=customer, name="vlan_id", value="100", actor=make_user(VIEW, UPDATE))

    assert not Attribute.objects.exists()


def test_upsert_of_an_existing_name_requires_update_permission(customer):
    make_attribute(customer, "support_tier", "standard")
    before = snapshot(customer)

    with pytest.raises(PermissionDenied, match="update_customer_attribute"):
        services.attribute_upsert(customer=customer, name="support_tier", value="premium", actor=make_user(CREATE))

    assert snapshot(customer) == before


def test_upsert_of_a_new_name_needs_only_create_permission(customer):
    outcome = services.attribute_upsert(customer=customer, name="vlan_id", value="100", actor=make_user(CREATE))

    assert outcome.result is Result.CREATED


def test_upsert_by_an_inactive_user_is_refused(customer):
    actor = make_user(CREATE, UPDATE, is_active=False)

    with pytest.raises(PermissionDenied):
        services.attribute_upsert(customer=customer, name="vlan_id", value="100", actor=actor)

    assert not Attribute.objects.exists()


def test_upsert_by_a_superuser_is_allowed(customer):
    actor = make_user(is_superuser=True)

    outcome = services.attribute_upsert(customer=customer, name="vlan_id", value="100", actor=actor)

    assert outcome.result is Result.CREATED


def test_rejected_upsert_of_an_existing_name_changes_nothing(customer):
    make_attribute(customer, "external_crm_id", "SF-12345")
    before = snapshot(customer)

    with pytest.raises(ValidationError):
        services.attribute_upsert(
            customer=customer, name="external_crm_id", value="x" * 151, actor=make_user(CREATE, UPDATE)
        )

    assert snapshot(customer) == before


def test_upsert_checks_permission_before_reporting_validation_errors(customer):
    with pytest.raises(PermissionDenied):
        services.attribute_upsert(customer=customer, name="Bad Name", value="", actor=make_user(VIEW))


def test_upsert_only_touches_the_given_customer(customer):
    other = make_customer()
    kept = make_attribute(other, "support_tier", "standard")

    services.attribute_upsert(customer=customer, name="support_tier", value="premium", actor=make_user(CREATE))

    kept.refresh_from_db()
    assert kept.attribute_value == "standard"
    assert Attribute.objects.filter(attribute_name="support_tier").count() == 2


# --- attribute_update -----------------------------------------------------------------------------------------


def test_update_changes_the_value_by_id(customer):
    attribute = make_attribute(customer, "support_tier", "standard")

    updated = services.attribute_update(attribute=attribute, value="premium", actor=make_user(UPDATE))

    assert updated.pk == attribute.pk
    stored = Attribute.objects.get(pk=attribute.pk)
    assert (stored.attribute_name, stored.attribute_value) == ("support_tier", "premium")
    assert stored.last_modified > attribute.last_modified
    assert stored.created == attribute.created


def test_update_renames_keeping_the_attribute_id(customer):
    attribute = make_attribute(customer, "crm_id", "SF-12345")

    services.attribute_update(attribute=attribute, name="external_crm_id", actor=make_user(UPDATE))

    stored = Attribute.objects.get(pk=attribute.pk)
    assert (stored.attribute_name, stored.attribute_value) == ("external_crm_id", "SF-12345")
    assert not Attribute.objects.filter(attribute_name="crm_id").exists()


def test_update_renames_and_changes_the_value_together(customer):
    attribute = make_attribute(customer, "crm_id", "SF-12345")

    services.attribute_update(attribute=attribute, name="external_crm_id", value="SF-1", actor=make_user(UPDATE))

    stored = Attribute.objects.get(pk=attribute.pk)
    assert (stored.attribute_name, stored.attribute_value) == ("external_crm_id", "SF-1")


def test_rename_onto_an_existing_name_is_refused_and_changes_nothing(customer):
    make_attribute(customer, "external_crm_id", "SF-12345")
    moving = make_attribute(customer, "legacy_system_id", "OLD-CRM-789")
    before = snapshot(customer)

    with pytest.raises(ValidationError) as excinfo:
        services.attribute_update(attribute=moving, name="external_crm_id", value="changed", actor=make_user(UPDATE))

    message = " ".join(excinfo.value.message_dict["attribute_name"])
    assert "already has an attribute named" in message
    assert "external_crm_id" in message
    assert snapshot(customer) == before


def test_rename_onto_a_name_another_customer_has_is_allowed(customer):
    make_attribute(make_customer(), "external_crm_id", "SF-1")
    attribute = make_attribute(customer, "crm_id", "SF-2")

    services.attribute_update(attribute=attribute, name="external_crm_id", actor=make_user(UPDATE))

    assert Attribute.objects.get(pk=attribute.pk).attribute_name == "external_crm_id"


def test_update_requires_update_permission(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    before = snapshot(customer)

    with pytest.raises(PermissionDenied, match="update_customer_attribute"):
        services.attribute_update(attribute=attribute, value="premium", actor=make_user(VIEW, CREATE, DELETE))

    assert snapshot(customer) == before


def test_rejected_update_changes_nothing(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    before = snapshot(customer)

    with pytest.raises(ValidationError) as excinfo:
        services.attribute_update(attribute=attribute, name="Support Tier", value="x\x00", actor=make_user(UPDATE))

    assert set(excinfo.value.message_dict) == {"attribute_name", "attribute_value"}
    assert snapshot(customer) == before


def test_update_with_no_change_keeps_last_modified(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    before = snapshot(customer)

    services.attribute_update(attribute=attribute, name="support_tier", value="standard", actor=make_user(UPDATE))

    assert snapshot(customer) == before


def test_update_of_a_deleted_attribute_raises_does_not_exist(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    Attribute.objects.filter(pk=attribute.pk).delete()

    with pytest.raises(Attribute.DoesNotExist):
        services.attribute_update(attribute=attribute, value="premium", actor=make_user(UPDATE))

    assert not Attribute.objects.exists()


# --- attribute_delete -----------------------------------------------------------------------------------------


def test_delete_removes_the_attribute(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    kept = make_attribute(customer, "vlan_id", "100")

    services.attribute_delete(attribute=attribute, actor=make_user(DELETE))

    assert list(Attribute.objects.all()) == [kept]


def test_delete_requires_delete_permission(customer):
    attribute = make_attribute(customer, "support_tier", "standard")

    with pytest.raises(PermissionDenied, match="delete_customer_attribute"):
        services.attribute_delete(attribute=attribute, actor=make_user(VIEW, CREATE, UPDATE))

    assert Attribute.objects.filter(pk=attribute.pk).exists()


def test_delete_then_upsert_creates_a_new_row(customer):
    actor = make_user(CREATE, DELETE)
    attribute = make_attribute(customer, "support_tier", "standard")
    services.attribute_delete(attribute=attribute, actor=actor)

    outcome = services.attribute_upsert(customer=customer, name="support_tier", value="premium", actor=actor)

    assert outcome.result is Result.CREATED
    assert outcome.attribute.pk != attribute.pk


# --- expected versions (the Edit/Delete forms and HTTP If-Match carry the ETag they showed) ---------------------


def test_update_with_the_current_version_succeeds(customer):
    attribute = make_attribute(customer, "support_tier", "standard")

    services.attribute_update(attribute=attribute, value="premium", actor=make_user(UPDATE), if_match=[attribute.etag])

    assert Attribute.objects.get(pk=attribute.pk).attribute_value == "premium"


def test_update_with_a_stale_version_is_refused_and_changes_nothing(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    stale_etag = attribute.etag
    services.attribute_update(attribute=attribute, value="premium", actor=None)
    before = snapshot(customer)

    with pytest.raises(services.PreconditionFailed) as excinfo:
        services.attribute_update(
            attribute=attribute, value="enterprise", actor=make_user(UPDATE), if_match=[stale_etag]
        )

    assert excinfo.value.current.attribute_value == "premium"
    assert snapshot(customer) == before


def test_delete_with_a_stale_version_is_refused_and_deletes_nothing(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    stale_etag = attribute.etag
    services.attribute_update(attribute=attribute, value="premium", actor=None)

    with pytest.raises(services.PreconditionFailed):
        services.attribute_delete(attribute=attribute, actor=make_user(DELETE), if_match=[stale_etag])

    assert Attribute.objects.filter(pk=attribute.pk).exists()


def test_version_changes_with_every_write(customer):
    attribute = make_attribute(customer, "support_tier", "standard")
    first = attribute.etag

    updated = services.attribute_update(attribute=attribute, value="premium", actor=None)

    assert updated.etag != first
    assert Attribute.objects.get(pk=attribute.pk).etag == updated.etag


def test_upsert_with_a_version_of_an_existing_name_still_requires_update_permission(customer):
    # The permission comes first: a refused writer learns nothing about the stored attribute.
    make_attribute(customer, "support_tier", "standard")
    before = snapshot(customer)

    with pytest.raises(PermissionDenied):
        services.attribute_upsert(
            customer=customer, name="support_tier", value="premium", actor=make_user(CREATE), if_match=['"stale"']
        )

    assert snapshot(customer) == before
