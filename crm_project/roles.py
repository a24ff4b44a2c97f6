"""The role groups, defined once: group name -> the permissions ("app_label.codename") its members hold.

The data migrations (customers 0002, attributes 0002 and 0005) made these groups as they were when each
was written; they are history and stay as they are. This mapping is the definition that reads as one
table, and `create_missing_role_groups` (post_migrate, connected in `apps.py`) makes any group of it that
does not exist yet: after a fresh `migrate` that is none, after a test database flush (transactional
tests, the live server) it is all of them. A group that exists is left alone, so what an administrator
changed in Django admin survives every deploy. `tests/project/test_roles.py` checks the migrations and
this mapping agree.
"""

CUSTOMER = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
]
ATTRIBUTE = [
    "attributes.view_customer_attribute",
    "attributes.create_customer_attribute",
    "attributes.update_customer_attribute",
    "attributes.delete_customer_attribute",
]
REGISTRY = "attributes.manage_attribute_registry"

ROLES: dict[str, list[str]] = {
    "Support": ["customers.view_customer", "attributes.view_customer_attribute"],
    "Customer admin": [*CUSTOMER, *ATTRIBUTE, REGISTRY],
    # For the users of API tokens: integrations look customers up by id (the specification's "query customers").
    "Integration": ["customers.view_customer", *ATTRIBUTE],
}


def create_missing_role_groups(*, apps=None, using="default", **kwargs) -> None:
    """post_migrate: create each role group that is missing, once every permission it needs exists.

    post_migrate is sent once per app, and each app's permissions are created on its own signal; until the last
    of them exists this does nothing, so the order of INSTALLED_APPS does not matter.
    """
    if apps is None:
        from django.apps import apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # auth not migrated (yet)
        return
    missing = set(ROLES) - set(Group.objects.using(using).filter(name__in=ROLES).values_list("name", flat=True))
    if not missing:
        return
    wanted = {tuple(perm.split(".", 1)) for perms in ROLES.values() for perm in perms}
    permissions = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(codename__in={codename for _, codename in wanted})
        .values_list("pk", "content_type__app_label", "codename")
        if (app_label, codename) in wanted
    }
    if len(permissions) < len(wanted):
        return  # a later app's permissions are not created yet
    for name in sorted(missing):
        group = Group.objects.using(using).create(name=name)
        group.permissions.add(*(permissions[tuple(perm.split(".", 1))] for perm in ROLES[name]))
