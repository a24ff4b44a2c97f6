"""What `OPTIONS` answers on the API: the view's name, media types and, per write method, its fields.

DRF's SimpleMetadata calls `get_object()` for PUT on any view that has it, which on a collection route (no id
in the URL) raised a KeyError, a 500 for every signed-in user. An OPTIONS request describes the route, never one
object, so this class never looks one up; it lists the fields of a write method only when the user's permission
for that method passes, and describes a route without fields rather than fail.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request

logger = logging.getLogger(__name__)

WRITE_METHODS = ("PUT", "PATCH", "POST")


class RouteMetadata(SimpleMetadata):
    def determine_actions(self, request, view) -> dict:
        actions = {}
        for method in WRITE_METHODS:
            if method not in view.allowed_methods:
                continue
            view.request = clone_request(request, method)
            # The action the method maps to decides the permission and the serializer (as dispatch would set it).
            previous_action = getattr(view, "action", None)
            if hasattr(view, "action_map"):
                view.action = view.action_map.get(method.lower())
            try:
                view.check_permissions(view.request)
                actions[method] = self.get_serializer_info(view.get_serializer())
            except (exceptions.APIException, PermissionDenied, Http404):
                pass  # not allowed: the user learns the method exists (Allow), not its fields
            except Exception:  # a view whose serializer needs request data: describe it without fields
                logger.warning("OPTIONS %s: no field description for %s", request.path, method, exc_info=True)
            finally:
                view.request = request
                if hasattr(view, "action_map"):
                    view.action = previous_action
        return actions
