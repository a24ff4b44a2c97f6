"""services/definitions.py: the one write path of the registry, refusing whoever lacks manage_attribute_registry."""

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from attributes import services
from attributes.models import AttributeDefinition
from tests.factories import make_user

from .conftest import ALL, MANAGE, define

pytestmark = pytest.mark.django_db

FIELDS = {"name": "billing_day", "description": "Invoice day.", "value_type": "integer", "example": "5"}


@pytest.fixture
def tier():
    return define("support_tier", "choice", choices="gold\nsilver")


def test_manager_creates_updates_and_deletes():
    manager = make_user(MANAGE)

    created = services.definition_create(actor=manager, **FIELDS)
    updated = services.definition_update(definition=created, actor=manager, example="28")
    assert AttributeDefinition.objects.get(name="billing_day").example == updated.example == "28"

    services.definition_delete(definition=updated, actor=manager)
    assert not AttributeDefinition.objects.exists()


def test_system_code_needs_no_permission():
    services.definition_create(actor=None, **FIELDS)

    assert AttributeDefinition.objects.filter(name="billing_day").exists()


@pytest.mark.parametrize("codenames", [(), ("view_customer", *ALL)], ids=["no permissions", "every attribute one"])
def test_every_write_is_refused_without_the_registry_permission(codenames, tier):
    user = make_user(*codenames)

    with pytest.raises(PermissionDenied, match="manage_attribute_registry"):
        services.definition_create(actor=user, **FIELDS)
    with pytest.raises(PermissionDenied, match="manage_attribute_registry"):
        services.definition_update(definition=tier, actor=user, choices="gold")
    with pytest.raises(PermissionDenied, match="manage_attribute_registry"):
        services.definition_delete(definition=tier, actor=user)

    tier.refresh_from_db()
    assert tier.choices == "gold\nsilver"
    assert list(AttributeDefinition.objects.values_list("name", flat=True)) == ["support_tier"]


def test_the_definitions_own_rules_are_checked_before_saving(tier):
    with pytest.raises(ValidationError, match="regular expression"):
        services.definition_create(actor=None, **{**FIELDS, "value_type": "regex", "pattern": "BA-[0-9"})
    with pytest.raises(ValidationError):
        services.definition_update(definition=tier, actor=None, example="platinum")
    with pytest.raises(ValidationError, match="Not a field"):
        services.definition_create(actor=None, **FIELDS, created="2020-01-01")

    tier.refresh_from_db()
    assert tier.example == ""
    assert list(AttributeDefinition.objects.values_list("name", flat=True)) == ["support_tier"]


# --- the Registry page and Django admin both write through the service ----------------------------------------------


def spy(name: str):
    return mock.patch(f"attributes.services.{name}", wraps=getattr(services, name))


@pytest.fixture
def manager(client):
    user = make_user("view_customer", MANAGE, is_staff=True)
    client.force_login(user)
    return user


def test_the_registry_page_writes_through_the_service(client, manager, tier):
    with spy("definition_create") as create, spy("definition_update") as update, spy("definition_delete") as delete:
        assert client.post("/attributes/registry/new/", FIELDS).status_code == 302
        edit = {"name": "support_tier", "value_type": "choice", "choices": "gold\nsilver\nbronze"}
        assert client.post(f"/attributes/registry/{tier.pk}/edit/", edit).status_code == 302
        assert client.post(f"/attributes/registry/{tier.pk}/delete/").status_code == 302

    assert create.call_args.kwargs["actor"] == manager
    assert update.call_args.kwargs["definition"].pk == tier.pk
    assert delete.call_args.kwargs["definition"].name == "support_tier"
    assert list(AttributeDefinition.objects.values_list("name", flat=True)) == ["billing_day"]


def test_admin_writes_through_the_service(client, manager, tier):
    change = reverse("admin:attributes_attributedefinition_change", args=[tier.pk])
    with spy("definition_create") as create, spy("definition_update") as update, spy("definition_delete") as delete:
        assert client.post(reverse("admin:attributes_attributedefinition_add"), FIELDS).status_code == 302
        edit = {"name": "support_tier", "value_type": "choice", "choices": "gold\nsilver\nbronze"}
        assert client.post(change, edit).status_code == 302
        billing_day = AttributeDefinition.objects.get(name="billing_day")
        selected = {"action": "delete_selected", "_selected_action": [tier.pk, billing_day.pk], "post": "yes"}
        assert client.post(reverse("admin:attributes_attributedefinition_changelist"), selected).status_code == 302

    assert create.call_args.kwargs["actor"] == manager
    assert update.call_args.kwargs["definition"].pk == tier.pk
    assert {c.kwargs["definition"].name for c in delete.call_args_list} == {"support_tier", "billing_day"}
    assert not AttributeDefinition.objects.exists()


def test_admin_shows_a_refusal_of_the_service_and_keeps_the_definition(client, manager, tier):
    refusal = PermissionDenied("You need the manage_attribute_registry permission to change the attribute registry.")
    delete = reverse("admin:attributes_attributedefinition_delete", args=[tier.pk])
    with mock.patch("attributes.services.definition_delete", side_effect=refusal):
        response = client.post(delete, {"post": "yes"}, follow=True)

    assert "Nothing was changed: You need the manage_attribute_registry permission" in response.text
    assert AttributeDefinition.objects.filter(pk=tier.pk).exists()
