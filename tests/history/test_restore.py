"""Restore from the History tab: a deleted attribute, an earlier value; through the normal write path."""

import re

import pytest
from pytest_django.asserts import assertRedirects

from attributes import services
from attributes.models import Attribute, AttributeDefinition
from tests.factories import make_attribute, make_customer, make_user

from .conftest import CREATE, DELETE, UPDATE, VIEW, expected, history_rows, latest, summary

pytestmark = pytest.mark.django_db


def history_url(customer) -> str:
    return f"/customers/{customer.pk}/attributes/history/"


def restore_url(customer, row) -> str:
    return f"{history_url(customer)}{row.history_id}/restore/"


def restore_buttons(html: str) -> set[int]:
    """The history ids that have a Restore button on the page."""
    return {int(i) for i in re.findall(r'action="/customers/\d+/attributes/history/(\d+)/restore/"', html)}


def values(customer) -> dict[str, str]:
    return dict(customer.attributes.values_list("attribute_name", "attribute_value"))


@pytest.fixture
def deleted(attribute):
    """external_crm_id=SF-12345, deleted; returns its deletion's history row."""
    services.attribute_delete(attribute=attribute, actor=None)
    return latest(attribute_id=attribute.pk)


@pytest.fixture
def changed(attribute):
    """external_crm_id changed from SF-12345 to SF-2; returns the creation's history row (value SF-12345)."""
    services.attribute_update(attribute=attribute, value="SF-2", actor=None)
    return history_rows(attribute_id=attribute.pk)[0]


def test_restore_brings_back_a_deleted_attribute_and_records_the_restore(client, editor, customer, deleted):
    response = client.post(restore_url(customer, deleted), follow=True)

    assertRedirects(response, history_url(customer))
    assert "Restored external_crm_id = “SF-12345”." in response.content.decode()
    restored = Attribute.objects.get(customer=customer, attribute_name="external_crm_id")
    assert restored.attribute_value == "SF-12345"
    assert summary(latest(attribute_id=restored.pk)) == expected(
        history_type="+",
        operation="restore",
        channel="ui",
        actor_name="editor",
        attribute_name="external_crm_id",
        attribute_value="SF-12345",
    )


def test_restore_brings_back_an_earlier_value(client, editor, customer, attribute, changed):
    assert changed.attribute_value == "SF-12345"

    response = client.post(restore_url(customer, changed))

    assertRedirects(response, history_url(customer), fetch_redirect_response=False)
    attribute.refresh_from_db()
    assert attribute.attribute_value == "SF-12345"
    assert summary(latest(attribute_id=attribute.pk)) == expected(
        history_type="~",
        operation="restore",
        channel="ui",
        actor_name="editor",
        attribute_name="external_crm_id",
        attribute_value="SF-12345",
        previous_value="SF-2",
    )


def test_restore_of_the_current_value_changes_and_records_nothing(client, editor, customer, attribute):
    current = latest(attribute_id=attribute.pk)
    before = len(history_rows())

    client.post(restore_url(customer, current))

    assert len(history_rows()) == before
    assert values(customer) == {"external_crm_id": "SF-12345"}


def test_restore_needs_create_permission(client, customer, deleted):
    client.force_login(make_user("view_customer", VIEW, UPDATE, DELETE))

    response = client.post(restore_url(customer, deleted))

    assert response.status_code == 403
    assert values(customer) == {}


def test_create_permission_alone_restores_a_deleted_name(client, customer, deleted):
    client.force_login(make_user("view_customer", VIEW, CREATE))

    client.post(restore_url(customer, deleted))

    assert values(customer) == {"external_crm_id": "SF-12345"}


def test_restoring_a_value_onto_an_existing_name_needs_update_permission(client, customer, attribute, changed):
    client.force_login(make_user("view_customer", VIEW, CREATE))
    before = len(history_rows())

    response = client.post(restore_url(customer, changed), follow=True)

    assert response.status_code == 200
    assert "Could not restore: You need the update_customer_attribute permission" in response.content.decode()
    assert values(customer) == {"external_crm_id": "SF-2"}
    assert len(history_rows()) == before


def test_restore_is_validated_like_any_write(client, editor, customer, deleted):
    AttributeDefinition.objects.create(name="external_crm_id", value_type="integer")
    before = len(history_rows())

    response = client.post(restore_url(customer, deleted), follow=True)

    assert "Could not restore:" in response.content.decode()
    assert values(customer) == {}
    assert len(history_rows()) == before


def test_restore_of_another_customers_history_is_404(client, editor, deleted):
    other = make_customer()

    response = client.post(restore_url(other, deleted))

    assert response.status_code == 404
    assert values(other) == {}
    assert not Attribute.objects.exists()


def test_restore_of_an_unknown_history_id_is_404(client, editor, customer):
    assert client.post(f"{history_url(customer)}999999/restore/").status_code == 404


def test_restore_only_accepts_post(client, editor, customer, deleted):
    assert client.get(restore_url(customer, deleted)).status_code == 405
    assert values(customer) == {}


def test_restore_redirects_anonymous_users_to_login(client, customer, deleted):
    url = restore_url(customer, deleted)

    response = client.post(url)

    assertRedirects(response, f"/accounts/login/?next={url}", fetch_redirect_response=False)
    assert values(customer) == {}


def test_restore_needs_the_csrf_token(editor, customer, deleted):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)

    assert strict.post(restore_url(customer, deleted)).status_code == 403
    assert values(customer) == {}


# --- which rows offer Restore -------------------------------------------------------------------------------------


@pytest.fixture
def story(customer):
    """external_crm_id SF-1 -> SF-2 (current); billing_plan annual, deleted. Returns the rows by label."""
    attribute = make_attribute(customer, "external_crm_id", "SF-1")
    services.attribute_update(attribute=attribute, value="SF-2", actor=None)
    plan = make_attribute(customer, "billing_plan", "annual")
    services.attribute_delete(attribute=plan, actor=None)
    created, updated = history_rows(attribute_id=attribute.pk)
    plan_created, plan_deleted = history_rows(attribute_id=plan.pk)
    return {"sf1": created, "sf2": updated, "plan_created": plan_created, "plan_deleted": plan_deleted}


def test_history_offers_restore_for_deleted_and_earlier_values_but_not_the_current_one(client, editor, customer, story):
    html = client.get(history_url(customer)).content.decode()

    # SF-2 is the current value; both billing_plan rows bring back the deleted annual.
    assert restore_buttons(html) == {story[k].history_id for k in ("sf1", "plan_created", "plan_deleted")}
    assert 'aria-label="Restore external_crm_id = SF-1"' in html


def test_history_hides_restore_without_create_permission(client, customer, story):
    client.force_login(make_user("view_customer", VIEW, UPDATE, DELETE))

    html = client.get(history_url(customer)).content.decode()

    assert restore_buttons(html) == set()
    assert "Restore external_crm_id" not in html


def test_history_offers_create_only_users_restore_of_deleted_names_only(client, customer, story):
    client.force_login(make_user("view_customer", VIEW, CREATE))

    html = client.get(history_url(customer)).content.decode()

    assert restore_buttons(html) == {story["plan_created"].history_id, story["plan_deleted"].history_id}


def test_after_a_restore_the_restored_row_no_longer_offers_restore(client, editor, customer, story):
    client.post(restore_url(customer, story["plan_deleted"]))

    html = client.get(history_url(customer)).content.decode()

    assert restore_buttons(html) == {story["sf1"].history_id}
