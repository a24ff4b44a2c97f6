"""Give the roles their attribute permissions, and add the Integration role for API clients."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ["view_customer_attribute", "create_customer_attribute", "update_customer_attribute", "delete_customer_attribute"]
GROUPS = {
    "Support": ["view_customer_attribute"],
    "Customer admin": ALL,
    "Integration": ALL,
}


def add_permissions(apps, schema_editor):
    for label in ("customers", "attributes"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="attributes", codename__in=codenames))
    # Integrations look customers up by id (the specification's "query customers" example).
    Group.objects.get(name="Integration").permissions.add(
        Permission.objects.get(content_type__app_label="customers", codename="view_customer")
    )


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="attributes", codename__in=ALL)
    for group in Group.objects.filter(name__in=["Support", "Customer admin"]):
        group.permissions.remove(*perms)
    Group.objects.filter(name="Integration").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("attributes", "0001_initial"),
        ("customers", "0002_groups"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
