"""The roles the migrations set up, and what their members may do with attributes."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from attributes.models import Attribute
from attributes.permissions import Action, has_permission
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ALL = {"view_customer_attribute", "create_customer_attribute", "update_customer_attribute", "delete_customer_attribute"}


def attribute_codenames(group_name: str) -> set[str]:
    """The group's permissions on the Attribute model (other models of the app have their own)."""
    group = Group.objects.get(name=group_name)
    attribute_type = ContentType.objects.get_for_model(Attribute)
    return set(group.permissions.filter(content_type=attribute_type).values_list("codename", flat=True))


def test_support_may_only_view_attributes():
    assert attribute_codenames("Support") == {"view_customer_attribute"}


@pytest.mark.parametrize("group_name", ["Customer admin", "Integration"])
def test_group_has_all_four_attribute_permissions(group_name):
    assert attribute_codenames(group_name) == ALL


def test_support_keeps_its_customer_permission():
    assert Group.objects.get(name="Support").permissions.filter(codename="view_customer").exists()


def test_support_member_may_view_but_not_write():
    user = make_user(groups=("Support",))

    allowed = {action: has_permission(user, action) for action in Action}

    assert allowed == {Action.VIEW: True, Action.CREATE: False, Action.UPDATE: False, Action.DELETE: False}


@pytest.mark.parametrize("group_name", ["Customer admin", "Integration"])
def test_group_member_may_do_everything_with_attributes(group_name):
    user = make_user(groups=(group_name,))

    assert all(has_permission(user, action) for action in Action)


def test_every_role_that_may_see_attribute_pages_may_see_customers():
    """The attribute pages show customers, so they need customers.view_customer too (attributes/permissions.py)."""
    for group in Group.objects.filter(permissions__codename="view_customer_attribute"):
        user = make_user(groups=(group.name,))
        assert user.has_perm("customers.view_customer"), f"{group.name} could see no attribute page"
