"""CSV export (streamed) and import parsing for attributes.

Export columns: customer_id,customer_name,attribute_name,attribute_value,last_modified. Import needs
customer_id,attribute_name,attribute_value and ignores other columns, so an export can be re-imported.
Every field is quoted. A cell that a spreadsheet would run as a formula (OWASP "CSV injection": starting with
= + - @ tab or CR, or holding one of those right after a separator , ; | tab or a line break, where a
spreadsheet splitting on another separator would start a cell; spaces and quotes in between do not count)
is written with a leading apostrophe, and import removes it again, so export-then-import changes nothing.
Control characters in customer names (which older records may hold) are exported as U+FFFD, never raw.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import nullcontext

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from crm_project.parsing import parse_id, unstorable_character

from . import sensitive, services

EXPORT_COLUMNS = ["customer_id", "customer_name", "attribute_name", "attribute_value", "last_modified"]
IMPORT_COLUMNS = ["customer_id", "attribute_name", "attribute_value"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula trigger at the start, or after anything a spreadsheet may treat as the start of a cell.
_FORMULA_RE = re.compile(r"(?:\A|[,;|\t\r\n])[\s\"']*[=+\-@\t\r]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _is_formula(text: str) -> bool:
    return bool(_FORMULA_RE.search(text))


def neutralize(text: str) -> str:
    """Defuse spreadsheet formulas; an apostrophe already leading is doubled so import can undo this exactly."""
    if text.startswith("'") or _is_formula(text):
        return "'" + text
    return text


def unneutralize(text: str) -> str:
    if text.startswith("'") and (text[1:].startswith("'") or _is_formula(text[1:])):
        return text[1:]
    return text


def _printable(text: str) -> str:
    return _CONTROL_RE.sub("\ufffd", text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(attributes: QuerySet, presenter: sensitive.Presenter | None = None) -> Iterator[list]:
    """The export's rows. A sensitive value is an empty cell unless `presenter`'s reader may view it (then it is
    decrypted and the read recorded, a block of reveals at a time); without a presenter, always empty."""
    rows = (
        attributes.order_by("customer_id", "attribute_name")
        .annotate(customer_name=F("customer__customer_name"), name_sensitive=sensitive.sensitive_expression())
        .values_list(
            "customer_id", "customer_name", "attribute_name", "attribute_value", "last_modified", "value_ciphertext",
            "name_sensitive",
        )
    )  # fmt: skip
    tz = timezone.get_current_timezone()
    for n, (customer_id, customer_name, name, value, modified, ciphertext, name_sensitive) in enumerate(
        rows.iterator(chunk_size=5000), 1
    ):
        if sensitive.Presenter.is_hidden(value=value, ciphertext=ciphertext, name_sensitive=name_sensitive):
            if presenter is None:
                value = ""
            else:
                value = (
                    presenter.value(
                        customer_id=customer_id, name=name, value=value, ciphertext=ciphertext, name_sensitive=True
                    )[0]
                    or ""
                )
        yield [
            customer_id,
            neutralize(_printable(customer_name)),
            name,
            neutralize(value),
            modified.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        ]
        if presenter is not None and n % 5000 == 0:
            presenter.flush()
    if presenter is not None:
        presenter.flush()


def csv_response(attributes: QuerySet, filename: str, *, user=None) -> StreamingHttpResponse:
    """Stream the attributes as CSV: rows are read from the database in chunks, never all at once.

    The header goes out at once; rows then go out in blocks of about 64 KB (one write per row would be a
    system call per row: millions for a full export). On PostgreSQL the rows come through a server-side
    cursor inside a transaction: outside one, Django declares the cursor WITH HOLD, and PostgreSQL then
    materialises the whole result before the first row (minutes, and past the statement timeout, at 10M
    rows). Inside one, each FETCH is its own bounded statement and memory stays flat. SQLite's cursor
    streams anyway, and a transaction there would take the write lock (BEGIN IMMEDIATE) for the download.
    """
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    presenter = sensitive.Presenter(user, "export")  # in the request: who and which token read it

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        block: list[str] = []
        size = 0
        with _streaming_read():
            for row in export_rows(attributes, presenter):
                line = writer.writerow(row)
                block.append(line)
                size += len(line)
                if size >= _BLOCK_CHARS:
                    yield "".join(block)
                    block, size = [], 0
        if block:
            yield "".join(block)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_BLOCK_CHARS = 64 * 1024


def _streaming_read():
    return transaction.atomic() if connection.vendor == "postgresql" else nullcontext()


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
        cells = {column: row.get(column) or "" for column in IMPORT_COLUMNS}
        for column, cell in cells.items():
            if unstorable_character(cell) is not None:  # PostgreSQL cannot even compare text holding NUL
                raise CsvFormatError(f"Line {reader.line_num}: the {column} cell contains a NUL character (U+0000).")
        raw_id = cells["customer_id"].strip()
        customer_id = parse_id(raw_id)  # ASCII digits only: "²" or "١٢" is not an id
        yield (
            reader.line_num,
            raw_id if customer_id is None else customer_id,
            cells["attribute_name"],
            unneutralize(cells["attribute_value"]),
        )


def decode_upload(data: bytes) -> io.StringIO:
    """Uploaded bytes as text lines (UTF-8, with or without BOM)."""
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as error:
        raise CsvFormatError("The file is not UTF-8 text.") from error


def run_import(text: str, *, actor, dry_run: bool) -> services.ImportReport:
    """Import CSV text; a malformed file raises CsvFormatError with the reason."""
    rows = read_rows(io.StringIO(text, newline=""))
    try:
        return services.attribute_import(rows=rows, actor=actor, dry_run=dry_run)
    except csv.Error as error:  # e.g. a NUL byte or an oversized field: csvio does not wrap these
        raise CsvFormatError(f"The file is not valid CSV: {error}.") from None
