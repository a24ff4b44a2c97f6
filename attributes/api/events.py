"""`GET /crm/event/`: the change feed, read with a cursor (`after` = the last sequence seen; `next` answers it).

Events are numbered after commit (`events.services.events_sequence`), so a reader that asks again with the
`next` it got never misses or reorders one, however writers' transactions interleave.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm_project.parsing import parse_int
from events import selectors, services
from events.filters import EventFilterSet

from .. import sensitive
from ..permissions import Action, AttributeApiPermission

MAX_LIMIT, DEFAULT_LIMIT = 1000, 100
ALLOWED_PARAMS = {"after", "limit", "customer_id", "type", "attribute_name", "format"}


class EventDataSerializer(serializers.Serializer):
    attribute_id = serializers.IntegerField()
    attribute_name = serializers.CharField()
    attribute_value = serializers.CharField(
        allow_null=True, help_text="After the change; for a deletion, the deleted value; null when sensitive."
    )
    previous_name = serializers.CharField(help_text="The name before a rename; empty otherwise.")
    previous_value = serializers.CharField(
        allow_null=True, help_text="The value before an update; empty otherwise; null when sensitive."
    )
    sensitive = serializers.BooleanField(required=False, help_text="Present (true) for a sensitive value.")


class EventActorSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Empty for system writes.")
    channel = serializers.CharField(help_text="ui, api, admin, cli, seed or system")
    token_name = serializers.CharField(help_text="The API token used, if any.")


class EventSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["attribute.created", "attribute.updated", "attribute.deleted",
                                            "attribute.renamed"])  # fmt: skip
    sequence = serializers.IntegerField(help_text="Strictly increasing in commit order.")
    occurred_at = serializers.DateTimeField()
    customer_id = serializers.IntegerField()
    data = EventDataSerializer()
    actor = EventActorSerializer()
    batch_id = serializers.UUIDField(allow_null=True, help_text="The bulk request or job the change came from.")


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next = serializers.IntegerField(help_text="Pass as `after` to get the events that follow.")


def _int_param(params, name: str, *, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    number = parse_int(raw, minimum=low, maximum=high)
    if number is None:
        raise ValidationError({name: [f"Must be a whole number from {low} to {high}."]})
    return number


class EventFeedViewSet(viewsets.GenericViewSet):
    permission_classes = [AttributeApiPermission]
    required_actions = {"feed": Action.VIEW}
    serializer_class = EventPageSerializer

    @extend_schema(
        operation_id="event_feed",
        summary="Change feed",
        description="Required permission: `view_customer_attribute`. Every change of every attribute from any "
        "path, in sequence order, after `after`. Store `next` and pass it as `after` next time: no event is "
        "missed or repeated. Events are kept for EVENT_RETENTION_DAYS (default 30).",
        parameters=[
            OpenApiParameter("after", int, description="The last sequence already seen (0 = from the oldest kept)."),
            OpenApiParameter("limit", int, description=f"At most this many events (1-{MAX_LIMIT}, default 100)."),
            OpenApiParameter("customer_id", int),
            OpenApiParameter(
                "type", str, enum=["attribute.created", "attribute.updated", "attribute.deleted", "attribute.renamed"]
            ),  # fmt: skip
            OpenApiParameter("attribute_name", str),
        ],
        responses={
            200: EventPageSerializer,
            400: OpenApiResponse(description="Invalid parameter."),
            401: OpenApiResponse(description="No valid credentials."),
            403: OpenApiResponse(description="Needs `view_customer_attribute`."),
        },
    )
    def feed(self, request, *args, **kwargs):
        params = request.query_params
        unknown = sorted(set(params) - ALLOWED_PARAMS)
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        after = _int_param(params, "after", default=0, low=0, high=2**63 - 1)
        limit = _int_param(params, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        filterset = EventFilterSet(params, queryset=selectors.events_after(after))
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        services.events_sequence()  # number what has committed, so the page is as fresh as it can be
        events = list(filterset.qs[:limit])
        sensitive.mask_records(events)  # always masked here, whoever reads
        page = {"events": [e.as_dict() for e in events], "next": events[-1].sequence if events else after}
        return Response(page)
