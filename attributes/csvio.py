"""CSV export (streamed) and import parsing for attributes.

Export columns: customer_id,customer_name,attribute_name,attribute_value,last_modified. Import needs
customer_id,attribute_name,attribute_value and ignores other columns, so an export can be re-imported.
Values that a spreadsheet would run as a formula (starting with = + - @ tab or CR) are written with a
leading apostrophe, and import removes it again, so export-then-import changes nothing.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

EXPORT_COLUMNS = ["customer_id", "customer_name", "attribute_name", "attribute_value", "last_modified"]
IMPORT_COLUMNS = ["customer_id", "attribute_name", "attribute_value"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text: str) -> str:
    """Defuse spreadsheet formulas; an apostrophe already leading is doubled so import can undo this exactly."""
    if text.startswith(_FORMULA_START) or text.startswith("'"):
        return "'" + text
    return text


def unneutralize(text: str) -> str:
    if text.startswith("'") and text[1:].startswith((*_FORMULA_START, "'")):
        return text[1:]
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(attributes: QuerySet) -> Iterator[list]:
    rows = (
        attributes.order_by("customer_id", "attribute_name")
        .annotate(customer_name=F("customer__customer_name"))
        .values_list("customer_id", "customer_name", "attribute_name", "attribute_value", "last_modified")
    )
    tz = timezone.get_current_timezone()
    for customer_id, customer_name, name, value, modified in rows.iterator(chunk_size=5000):
        yield [
            customer_id,
            neutralize(customer_name),
            name,
            neutralize(value),
            modified.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        ]


def csv_response(attributes: QuerySet, filename: str) -> StreamingHttpResponse:
    """Stream the attributes as CSV: rows are read from the database in chunks, never all at once."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for row in export_rows(attributes):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CsvFormatError(ValueError):
    pass


def read_rows(text_lines: Iterable[str]) -> Iterator[tuple[int, object, str, str]]:
    """(line number, customer_id, name, value) per data row; customer_id is an int when it parses as one.

    Raises CsvFormatError for a file that is not CSV with the needed columns.
    """
    try:
        yield from _read_rows(text_lines)
    except csv.Error as error:
        raise CsvFormatError(f"The file is not valid CSV: {error}.") from error


def _read_rows(text_lines: Iterable[str]) -> Iterator[tuple[int, object, str, str]]:
    reader = csv.DictReader(text_lines)
    missing = [column for column in IMPORT_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise CsvFormatError(f"The CSV header must include {', '.join(IMPORT_COLUMNS)}; missing: {', '.join(missing)}.")
    for row in reader:
        raw_id = (row.get("customer_id") or "").strip()
        customer_id: object = int(raw_id) if raw_id.isdigit() and len(raw_id) < 19 else raw_id
        yield (
            reader.line_num,
            customer_id,
            row.get("attribute_name") or "",
            unneutralize(row.get("attribute_value") or ""),
        )


def decode_upload(data: bytes) -> io.StringIO:
    """Uploaded bytes as text lines (UTF-8, with or without BOM)."""
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as error:
        raise CsvFormatError("The file is not UTF-8 text.") from error
