"""The attribute permissions, and the one place that checks them for the UI, the API, admin and services."""

from collections.abc import Mapping
from enum import StrEnum

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


# The names the specification gives, declared on `Attribute.Meta.permissions`.
PERMISSIONS: dict[Action, str] = {
    Action.VIEW: "attributes.view_customer_attribute",
    Action.CREATE: "attributes.create_customer_attribute",
    Action.UPDATE: "attributes.update_customer_attribute",
    Action.DELETE: "attributes.delete_customer_attribute",
}

_MESSAGES: dict[Action, str] = {
    Action.VIEW: "You need the view_customer_attribute permission to see attributes.",
    Action.CREATE: "You need the create_customer_attribute permission to add attributes.",
    Action.UPDATE: "You need the update_customer_attribute permission to change attributes.",
    Action.DELETE: "You need the delete_customer_attribute permission to delete attributes.",
}


def _holds(user, permission: str) -> bool:
    return user is not None and user.is_active and user.has_perm(permission)


def has_permission(user, action: Action) -> bool:
    return _holds(user, PERMISSIONS[action])


def require(user, action: Action) -> None:
    """Raise PermissionDenied (403 in the UI and the API) unless `user` may perform `action`."""
    if not has_permission(user, action):
        raise PermissionDenied(_MESSAGES[action])


# Customer data (names, status) and customer search belong to the customers app: wherever an attribute page or
# endpoint shows them or searches customers, it needs the customer view permission as well as its own. The
# specification's attribute endpoints return attributes (ids, names, values) and need only their own permission.
CUSTOMER_VIEW = "customers.view_customer"
CUSTOMER_VIEW_MESSAGE = "You need the view_customer permission to see customer names and status or search customers."


def may_see_customers(user) -> bool:
    return _holds(user, CUSTOMER_VIEW)


def require_customer_view(user) -> None:
    """Raise PermissionDenied unless `user` may see customer data: see CUSTOMER_VIEW."""
    if not may_see_customers(user):
        raise PermissionDenied(CUSTOMER_VIEW_MESSAGE)


def upsert_actions(*, exists: bool) -> tuple[Action, ...]:
    """A write by name creates a missing name (create) or changes the customer's existing one (create and update)."""
    return (Action.CREATE, Action.UPDATE) if exists else (Action.CREATE,)


def may_upsert(user, *, exists: bool) -> bool:
    return all(has_permission(user, action) for action in upsert_actions(exists=exists))


def require_upsert(user, *, exists: bool) -> None:
    """Raise PermissionDenied naming the first permission a write by name needs and `user` lacks."""
    for action in upsert_actions(exists=exists):
        require(user, action)


def may_restore(user, *, exists: bool) -> bool:
    """A restore is a write by name (see `attribute_restore`): whether the name still `exists` decides the rule."""
    return may_upsert(user, exists=exists)


# The attribute registry (the Registry page, definitions in admin) and the fleet-wide rename that changes its
# vocabulary. Declared on `AttributeDefinition.Meta.permissions`.
REGISTRY = "attributes.manage_attribute_registry"
REGISTRY_RENAME_MESSAGE = "You need the manage_attribute_registry permission to rename names."
REGISTRY_WRITE_MESSAGE = "You need the manage_attribute_registry permission to change the attribute registry."


def may_manage_registry(user) -> bool:
    return _holds(user, REGISTRY)


def require_registry(user, message: str = "You need the manage_attribute_registry permission for this page.") -> None:
    """Raise PermissionDenied unless `user` may manage the registry."""
    if not may_manage_registry(user):
        raise PermissionDenied(message)


RENAME_ALL_ACTIONS = (Action.UPDATE, Action.DELETE)  # a merge deletes too


def may_rename_all(user) -> bool:
    """Renaming a name on every customer rewrites and deletes attributes and changes the registry's vocabulary."""
    return may_manage_registry(user) and all(has_permission(user, action) for action in RENAME_ALL_ACTIONS)


def require_rename_all(user) -> None:
    """The rule of `may_rename_all`, for the page, the admin action, the command and the service alike:
    the registry permission first (as the Rename page has always answered), then update and delete."""
    require_registry(user, REGISTRY_RENAME_MESSAGE)
    for action in RENAME_ALL_ACTIONS:
        require(user, action)


# Webhook endpoints (the Webhooks page, the API, admin): they receive every matching change of every customer,
# so managing them is its own permission, declared on `AttributeDefinition.Meta.permissions`.
WEBHOOKS = "attributes.manage_webhooks"
WEBHOOKS_MESSAGE = "You need the manage_webhooks permission to see or change webhooks."


def may_manage_webhooks(user) -> bool:
    return _holds(user, WEBHOOKS)


def require_webhooks(user) -> None:
    """Raise PermissionDenied unless `user` may manage webhooks (None: trusted system code)."""
    if user is not None and not may_manage_webhooks(user):
        raise PermissionDenied(WEBHOOKS_MESSAGE)


class WebhooksApiPermission(BasePermission):
    """DRF: every webhook endpoint, GET included, needs `manage_webhooks`."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method == "OPTIONS":
            return True
        require_webhooks(request.user)
        return True


class Can(Mapping):
    """`can` in every template: what the signed-in user may do, computed on first use, one key per rule.

    The four actions (`can.view`, `can.create`, `can.update`, `can.delete`), `can.manage_registry`,
    `can.rename_all`, `can.see_customers` and `can.manage_webhooks`. Templates ask these instead of `perms.*`,
    so each rule is written once, here.
    """

    _RULES = {
        **{action.value: (lambda user, action=action: has_permission(user, action)) for action in Action},
        "manage_registry": may_manage_registry,
        "rename_all": may_rename_all,
        "see_customers": may_see_customers,
        "manage_webhooks": may_manage_webhooks,
        "view_sensitive": lambda user: may_view_sensitive(user),
    }

    def __init__(self, user):
        self._user = user
        self._cache: dict[str, bool] = {}

    def __getitem__(self, key: str) -> bool:
        if key not in self._cache:
            self._cache[key] = self._RULES[key](self._user)
        return self._cache[key]

    def __iter__(self):
        return iter(self._RULES)

    def __len__(self) -> int:
        return len(self._RULES)


def context_processor(request) -> dict[str, Can]:
    return {"can": Can(getattr(request, "user", None))}


class AttributePermissionMixin(AccessMixin):
    """Class-based views: sign-in first (redirect to login), then the action's permission (403).

    `action` is one Action, or a tuple of them when the view needs several (an import creates and updates).
    `shows_customers`: the page renders customer data or searches customers (the customer header, customer
    names in a table or a CSV), so it also needs CUSTOMER_VIEW. True unless a page says otherwise, so a new page
    cannot leak customers by omission.
    """

    action: Action | tuple[Action, ...] = Action.VIEW
    shows_customers: bool = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        for action in self.action if isinstance(self.action, tuple) else (self.action,):
            require(request.user, action)
        if self.shows_customers:
            require_customer_view(request.user)
        return super().dispatch(request, *args, **kwargs)


class AttributeApiPermission(BasePermission):
    """DRF: the view maps each of its actions to an Action, or a tuple of them all needed; an unmapped action is
    refused, GET included.

    Actions named in the view's `customer_data_actions` answer with customer data (the CSV export's
    customer_name column) and also need CUSTOMER_VIEW.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if view.action is None:  # a method the endpoint lacks: let DRF answer 405
            return True
        if view.action == "metadata":  # OPTIONS describes the endpoint; it reads no attribute
            return True
        action = view.required_actions.get(view.action)
        if action is None:  # an action nobody mapped is forbidden, not open
            return False
        for needed in action if isinstance(action, tuple) else (action,):  # e.g. an import creates and updates
            require(request.user, needed)  # raises PermissionDenied with the message naming the permission
        if view.action in getattr(view, "customer_data_actions", ()):
            require_customer_view(request.user)
        return True


class RenameAllApiPermission(BasePermission):
    """DRF: the fleet rename endpoint needs what the Rename page needs (`require_rename_all`), before any parsing."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method == "OPTIONS":  # describes the endpoint; renames nothing
            return True
        require_rename_all(request.user)  # raises PermissionDenied with the message naming the permission
        return True


class RegistryApiPermission(BasePermission):
    """DRF: reading the registry needs `view_customer_attribute` (the Attributes tab shows the same hints to anyone
    who may see attributes); changing it needs `manage_attribute_registry`."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method == "OPTIONS":
            return True
        if request.method in self.SAFE:
            require(request.user, Action.VIEW)
        else:
            require_registry(request.user, REGISTRY_WRITE_MESSAGE)
        return True


# Sensitive values (attributes/sensitive.py): who may read them in plain; everyone else sees them masked.
SENSITIVE = "attributes.view_sensitive_customer_attribute"


def may_view_sensitive(user) -> bool:
    return _holds(user, SENSITIVE)
