"""Paths exactly as the specification documents them, each with or without a trailing slash (no redirect)."""

from django.urls import re_path

from .definitions import DefinitionViewSet
from .events import EventFeedViewSet
from .history import AttributeHistoryViewSet
from .imports import AttributeImportViewSet
from .rename import AttributeRenameView
from .reveals import RevealLogViewSet
from .usage import AttributeUsageViewSet
from .views import AttributeViewSet

ID = r"(?P<{}>[0-9]+)"  # any length: object_id() turns an id beyond 64 bits into a JSON 404

urlpatterns = [
    # The integrations' hottest two first (a path tries the patterns in order; no two of these match one path).
    re_path(
        rf"^attribute/customer_id/{ID.format('customer_id')}/?$",
        AttributeViewSet.as_view({"get": "list_for_customer"}),
        name="attribute-customer",
    ),
    re_path(r"^attribute/?$", AttributeViewSet.as_view({"put": "upsert", "get": "list"}), name="attribute"),
    re_path(r"^event/?$", EventFeedViewSet.as_view({"get": "feed"}), name="event-feed"),
    re_path(
        rf"^attribute/customer_id/{ID.format('customer_id')}/history/?$",
        AttributeHistoryViewSet.as_view({"get": "for_customer"}),
        name="attribute-customer-history",
    ),
    re_path(
        rf"^attribute/attribute_id/{ID.format('attribute_id')}/history/?$",
        AttributeHistoryViewSet.as_view({"get": "for_attribute"}),
        name="attribute-history",
    ),
    re_path(r"^attribute/definition/?$", DefinitionViewSet.as_view({"get": "list"}), name="attribute-definitions"),
    re_path(
        r"^attribute/definition/(?P<name>[^/]+)/?$",
        DefinitionViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
        name="attribute-definition",
    ),
    re_path(
        rf"^attribute/history_id/{ID.format('history_id')}/restore/?$",
        AttributeHistoryViewSet.as_view({"post": "restore"}),
        name="attribute-history-restore",
    ),
    re_path(r"^attribute/reveal-log/?$", RevealLogViewSet.as_view({"get": "list"}), name="attribute-reveal-log"),
    re_path(r"^attribute/bulk/?$", AttributeViewSet.as_view({"put": "bulk"}), name="attribute-bulk"),
    re_path(r"^attribute/export/?$", AttributeViewSet.as_view({"get": "export"}), name="attribute-export"),
    re_path(r"^attribute/rename/?$", AttributeRenameView.as_view(), name="attribute-rename"),
    re_path(r"^attribute/usage/?$", AttributeUsageViewSet.as_view({"get": "usage"}), name="attribute-usage"),
    re_path(r"^attribute/import/?$", AttributeImportViewSet.as_view({"post": "create"}), name="attribute-import"),
    re_path(
        rf"^attribute/attribute_id/{ID.format('attribute_id')}/?$",
        AttributeViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="attribute-detail",
    ),
]
