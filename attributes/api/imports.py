"""`POST /crm/attribute/import`: a CSV body (the export's columns) starts an import job; `?dry_run=true` previews it.

The body is `text/csv` (UTF-8, with or without BOM), at most the import page's 5 MB. The preview answers in the
request (`csvio.run_import(dry_run=True)`, as the page's); the import itself is a job (`services.import_start`):
202 with where to follow it.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ParseError, UnsupportedMediaType, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from crm_project.api import ERRORS, PayloadTooLarge
from jobs.api import JobAcceptedSerializer, accepted

from .. import csvio, services
from ..forms import MAX_UPLOAD_BYTES
from ..permissions import Action, AttributeApiPermission

ALLOWED_PARAMS = {"dry_run", "format"}
BOOLEANS = {"true": True, "false": False}


class CsvTextParser(BaseParser):
    """`text/csv` bodies as text: at most MAX_UPLOAD_BYTES (413), UTF-8 or a 400."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
            raise _too_large()
        data = stream.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise _too_large()
        try:
            return csvio.decode_upload(data).getvalue()
        except csvio.CsvFormatError as error:
            raise ParseError(str(error)) from None


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The CSV body is larger than {MAX_UPLOAD_BYTES} bytes; import larger files with "
        "`python manage.py import_attributes FILE`."
    )


class RejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the CSV text (the header is line 1).")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportPreviewSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Rows that would create an attribute.")
    updated = serializers.IntegerField(help_text="Rows that would change a value.")
    unchanged = serializers.IntegerField(help_text="Rows whose value is already stored.")
    rejected = RejectedRowSerializer(many=True, help_text="Every invalid row; with any, the import writes nothing.")


def _preview_body(report: services.ImportReport) -> dict:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": [{"line": e.index, "field": e.field, "message": e.message} for e in report.rejected],
    }


class AttributeImportViewSet(viewsets.ViewSet):
    """CSV import: preview in the request, the import itself as a job."""

    permission_classes = [AttributeApiPermission]
    parser_classes = [CsvTextParser]
    required_actions = {"create": (Action.CREATE, Action.UPDATE)}

    @extend_schema(
        operation_id="attribute_import",
        summary="Import attributes from CSV (a background job)",
        description="Required permissions: `create_customer_attribute` and `update_customer_attribute`. The body "
        "is CSV text (UTF-8, at most 5 MB) with a header naming `customer_id`, `attribute_name` and "
        "`attribute_value` (other columns, e.g. an export's, are ignored). 202: the import runs as a job "
        "(`Location` and `url` name it): every row is checked first, and with any rejected row the job fails "
        "with the report and writes nothing; otherwise the rows are written in chunks. `?dry_run=true` "
        "answers 200 with the preview instead and writes nothing. A body without the needed header is a 400.",
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Preview only (200); nothing is written."),
        ],
        request={"text/csv": OpenApiTypes.STR},
        responses={
            202: OpenApiResponse(JobAcceptedSerializer, description="The import job was started."),
            200: OpenApiResponse(ImportPreviewSerializer, description="The dry run's report."),
            **ERRORS,
            413: OpenApiResponse(description="The body is larger than 5 MB."),
            415: OpenApiResponse(description="The body is not `text/csv`."),
        },
    )
    def create(self, request, *args, **kwargs):
        if request.content_type.split(";")[0].strip().lower() != CsvTextParser.media_type:
            # Also when a form body was read before DRF (the input guard reads POSTed forms): never parse it as CSV.
            raise UnsupportedMediaType(request.content_type)
        dry_run = self._dry_run(request)
        text = request.data if isinstance(request.data, str) else ""  # an empty body parses to {}
        try:
            if dry_run:
                return Response(_preview_body(csvio.run_import(text, actor=request.user, dry_run=True)))
            job = services.import_start(text=text, actor=request.user, filename="")
        except csvio.CsvFormatError as error:
            raise ValidationError({"body": [str(error)]}) from None
        return accepted(job)

    @staticmethod
    def _dry_run(request) -> bool:
        unknown = sorted(set(request.query_params) - ALLOWED_PARAMS)
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        values = request.query_params.getlist("dry_run")
        if not values:
            return False
        if len(values) > 1 or values[0] not in BOOLEANS:
            raise ValidationError({"dry_run": ["Must be true or false, once."]})
        return BOOLEANS[values[0]]
