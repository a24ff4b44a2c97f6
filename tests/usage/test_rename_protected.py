"""Renaming a protected name across customers removes it for every integration: like a delete, it needs the
old name typed as confirmation on every path (service, Rename page, admin action, command). A preview does not."""

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command

from attributes.models import Attribute, AttributeDefinition
from jobs import runner

from .conftest import DELETE, REGISTRY, UPDATE, VIEW, values

PAGE = "/attributes/rename/"
RENAMER = (VIEW, UPDATE, DELETE, REGISTRY)


@pytest.fixture
def protected(dataset):
    AttributeDefinition.objects.filter(name="tier").update(protected=True)
    return dataset


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_page_preview_of_a_protected_name_asks_for_the_name(client, login, protected):
    login(*RENAMER)

    response = client.post(PAGE, {"old_name": "tier", "new_name": "service_tier", "preview": "1"})

    assert response.status_code == 200
    assert response.context["report"].renamed == 2
    assert 'name="confirm"' in response.content.decode()


@pytest.mark.parametrize("confirm", [None, "", "service_tier", "Tier"])
def test_page_apply_without_the_name_as_confirmation_changes_nothing(client, login, protected, confirm):
    login(*RENAMER)
    form = {"old_name": "tier", "new_name": "service_tier", "apply": "1"}
    if confirm is not None:
        form["confirm"] = confirm

    response = client.post(PAGE, form)

    assert response.status_code == 200
    assert "is protected" in response.content.decode()
    assert values("tier") == {protected.c1.pk: "gold", protected.c2.pk: "silver"}
    assert values("service_tier") == {}


def test_page_apply_with_the_name_as_confirmation_renames(client, login, protected):
    login(*RENAMER)

    response = client.post(PAGE, {"old_name": "tier", "new_name": "service_tier", "apply": "1", "confirm": "tier"})
    runner.run_queued()

    assert response.status_code == 302
    assert values("tier") == {}
    assert values("service_tier") == {protected.c1.pk: "gold", protected.c2.pk: "silver"}


def test_page_renames_an_unprotected_name_without_confirmation(client, login, protected):
    login(*RENAMER)

    response = client.post(PAGE, {"old_name": "legacy_id", "new_name": "old_system_id", "apply": "1"})
    runner.run_queued()

    assert response.status_code == 302
    assert values("old_system_id") == {protected.c3.pk: "L-1"}


def test_admin_action_needs_the_protected_name_as_confirmation(client, admin_user, protected):
    client.force_login(admin_user)
    selected = [str(pk) for pk in Attribute.objects.filter(attribute_name="tier").values_list("pk", flat=True)]
    common = {"action": "rename_across_customers", "_selected_action": selected, "new_name": "service_tier"}

    refused = client.post("/admin/attributes/attribute/", {**common, "apply": "yes"})

    assert refused.status_code == 302
    assert any("is protected" in text for text in texts(refused))
    assert values("service_tier") == {}

    done = client.post("/admin/attributes/attribute/", {**common, "confirm": "tier", "apply": "yes"})
    runner.run_queued()

    assert done.status_code == 302
    assert values("service_tier") == {protected.c1.pk: "gold", protected.c2.pk: "silver"}


def test_command_needs_confirm_for_a_protected_name(protected):
    with pytest.raises(CommandError, match="is protected"):
        call_command("rename_attribute", "tier", "service_tier")
    assert values("service_tier") == {}

    call_command("rename_attribute", "tier", "service_tier", "--confirm", "tier")

    assert values("service_tier") == {protected.c1.pk: "gold", protected.c2.pk: "silver"}
