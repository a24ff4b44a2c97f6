"""The role groups the data migration creates, with their customer permissions."""

import pytest
from django.contrib.auth.models import Group


def customer_permissions(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return set(group.permissions.filter(content_type__app_label="customers").values_list("codename", flat=True))


@pytest.mark.django_db
def test_support_may_only_view_customers():
    assert customer_permissions("Support") == {"view_customer"}


@pytest.mark.django_db
def test_customer_admin_may_view_add_change_and_delete_customers():
    assert customer_permissions("Customer admin") == {
        "view_customer",
        "add_customer",
        "change_customer",
        "delete_customer",
    }
