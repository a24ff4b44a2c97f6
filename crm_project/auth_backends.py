"""Authentication backends."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class ModelBackendOneQuery(ModelBackend):
    """Django's ModelBackend, reading a user's own and group permissions in one query instead of two.

    Every API request checks a permission; the benchmark's list endpoint spent two of its five queries here.
    Same result and the same per-request cache (`_perm_cache`) as ModelBackend.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.order_by()
            else:
                perms = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj)).order_by()
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in perms.values_list("content_type__app_label", "codename").distinct()
            }
        return user_obj._perm_cache
