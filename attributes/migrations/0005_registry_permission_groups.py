"""Customer admins manage the attribute registry (names, descriptions, expected formats, protection)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAME = "manage_attribute_registry"
GROUPS = ["Customer admin"]


def add_permission(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the group needs this one now.
    app_config = apps.get_app_config("attributes")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="attributes", codename=CODENAME)
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


def remove_permission(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="attributes", codename=CODENAME))


class Migration(migrations.Migration):
    dependencies = [
        ("attributes", "0004_registry"),
        ("customers", "0002_groups"),
    ]

    operations = [migrations.RunPython(add_permission, remove_permission)]
