"""The role groups: defined once in crm_project/roles.py, made by the data migrations, recreated after a flush."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal

from crm_project.roles import ROLES


def granted(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def migrations_grants() -> dict[str, set[str]]:
    """What the data migrations give each group, read from their own tables."""
    grants: dict[str, set[str]] = {}

    def grant(app_label: str, groups: dict) -> None:
        for name, codenames in groups.items():
            grants.setdefault(name, set()).update(f"{app_label}.{codename}" for codename in codenames)

    grant("customers", importlib.import_module("customers.migrations.0002_groups").GROUPS)
    grant("attributes", importlib.import_module("attributes.migrations.0002_groups").GROUPS)
    grant("customers", {"Integration": ["view_customer"]})  # attributes 0002 adds it by hand
    registry = importlib.import_module("attributes.migrations.0005_registry_permission_groups")
    grant("attributes", {name: [registry.CODENAME] for name in registry.GROUPS})
    return grants


def test_the_mapping_says_what_the_migrations_did():
    assert {name: set(perms) for name, perms in ROLES.items()} == migrations_grants()


@pytest.mark.django_db
def test_the_migrated_database_holds_exactly_the_mapped_groups():
    assert {group.name: granted(group) for group in Group.objects.filter(name__in=ROLES)} == {
        name: set(perms) for name, perms in ROLES.items()
    }


@pytest.mark.django_db
def test_post_migrate_recreates_missing_groups_and_leaves_existing_ones_alone():
    Group.objects.filter(name__in=["Support", "Integration"]).delete()
    admin = Group.objects.get(name="Customer admin")
    admin.permissions.remove(Permission.objects.get(codename="delete_customer"))  # an administrator's change

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert granted(Group.objects.get(name="Support")) == set(ROLES["Support"])
    assert granted(Group.objects.get(name="Integration")) == set(ROLES["Integration"])
    assert "customers.delete_customer" not in granted(Group.objects.get(name="Customer admin"))


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_the_role_groups_in_place():
    """Transactional tests end with a flush; its post_migrate makes the groups again, so no test has to."""
    call_command("flush", interactive=False, verbosity=0)

    assert {group.name: granted(group) for group in Group.objects.filter(name__in=ROLES)} == {
        name: set(perms) for name, perms in ROLES.items()
    }
