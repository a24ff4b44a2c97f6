"""View mixins shared by every app."""

from django.contrib.auth.mixins import PermissionRequiredMixin


class PermissionRequiredWithReasonMixin(PermissionRequiredMixin):
    """Django's PermissionRequiredMixin, whose 403 page names the permission the user lacks."""

    def get_permission_denied_message(self) -> str:
        if self.permission_denied_message:
            return self.permission_denied_message
        missing = [p for p in self.get_permission_required() if not self.request.user.has_perm(p)]
        names = ", ".join(p.rpartition(".")[2] for p in missing or self.get_permission_required())
        return f"You need the {names} permission for this page."
