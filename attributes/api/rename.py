"""`POST /crm/attribute/rename`: rename or merge a name across every customer; a dry run, or a started job."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_project.api import ERRORS, UNSUPPORTED, NoUnknownFieldsMixin, StrictBooleanField, StrictCharField
from jobs.api import JobAcceptedSerializer, accepted

from .. import services
from ..permissions import RenameAllApiPermission
from ..services.rename import RESULT_LIST_MAX


class RenameRequestSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    old_name = StrictCharField(help_text="The name to rename.")
    new_name = StrictCharField(help_text="The new name; customers that have it already are merged into it.")
    prefer = serializers.ChoiceField(
        choices=["old", "new"],
        allow_null=True,
        required=False,
        default=None,
        help_text="Which value wins where a customer has both names with different values; "
        "null: such a customer refuses the whole rename.",
    )
    dry_run = StrictBooleanField(required=False, default=False, help_text="true: report what would change, at once.")
    confirm = StrictCharField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The old name again, to rename a name the registry marks protected (not needed for a dry run).",
    )


class ConflictSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    old_value = serializers.CharField()
    new_value = serializers.CharField()


class InvalidSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    message = serializers.CharField(help_text="Why the value does not fit the new name's registry definition.")


class RenameReportSerializer(serializers.Serializer):
    old_name = serializers.CharField()
    new_name = serializers.CharField()
    renamed = serializers.IntegerField(help_text="Customers that have only the old name: it is renamed.")
    merged = serializers.IntegerField(help_text="Customers that have both: merged into the new name.")
    conflict_count = serializers.IntegerField(help_text="Customers with both names and different values.")
    invalid_count = serializers.IntegerField(help_text="Values that do not fit the new name's registry definition.")
    conflicts = ConflictSerializer(many=True, help_text=f"The first {RESULT_LIST_MAX} conflicts.")
    invalid = InvalidSerializer(many=True, help_text=f"The first {RESULT_LIST_MAX} invalid values.")


class AttributeRenameView(APIView):
    permission_classes = [RenameAllApiPermission]

    @extend_schema(
        operation_id="attribute_rename",
        summary="Rename or merge an attribute name across all customers",
        description="Required permissions: `manage_attribute_registry`, `update_customer_attribute` and "
        "`delete_customer_attribute` (as the Rename page). `dry_run: true` answers 200 with what the rename "
        "would do. Otherwise the rename starts as a background job: 202 with the job's URL (also in `Location`); "
        "the job refuses the whole rename, writing nothing, if a customer has both names with different values "
        "(unless `prefer` says which wins) or a value does not fit the new name's registry definition. While it "
        "runs, writes of either name answer 409 with `Retry-After`, and readers may see it half done.",
        request=RenameRequestSerializer,
        responses={
            200: RenameReportSerializer,
            202: JobAcceptedSerializer,
            409: OpenApiResponse(
                description="Another rename job holds one of the names; retry after `Retry-After` seconds."
            ),
            **ERRORS,
            403: OpenApiResponse(description="The user lacks the registry, update or delete permission."),
            **UNSUPPORTED,
        },
        examples=[
            OpenApiExample(
                "Merge two spellings",
                value={"old_name": "billingmethod", "new_name": "billing_method", "prefer": None, "dry_run": False},
                request_only=True,
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        body = RenameRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        names = {"old": data["old_name"], "new": data["new_name"]}
        if data["dry_run"]:
            report = services.attribute_rename_all(**names, prefer=data["prefer"], actor=request.user, dry_run=True)
            result = report.as_result(**names)
            result["old_name"], result["new_name"] = result.pop("old").strip(), result.pop("new").strip()
            return Response(RenameReportSerializer(result).data, status=status.HTTP_200_OK)
        job = services.rename_start(**names, prefer=data["prefer"], actor=request.user, confirm=data["confirm"])
        return accepted(job)
