"""Import attributes from a CSV file (customer_id,attribute_name,attribute_value): all rows or none.

For files too large for the web import. Every row is checked first; any rejected row is listed and
nothing is written. Runs as the system (no permission check) unless --user names the acting user.
"""

import csv

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from attributes import csvio, services
from attributes.history import write_channel

from ..users import command_actor

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import customer attributes from a CSV file (customer_id,attribute_name,attribute_value), all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8); extra columns are ignored.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument("--user", metavar="USERNAME", help="Act as this user (needs create and update permission).")
        parser.add_argument("--chunk-size", type=int, default=1000, help="Rows per database round (default 1000).")

    def handle(self, *args, file: str, dry_run: bool, user: str | None, chunk_size: int, **options):
        actor = command_actor(user)
        total = self.count_rows(file)
        self.done = 0
        try:
            with open(file, encoding="utf-8-sig", newline="") as text, write_channel("cli"):
                report = services.attribute_import(
                    rows=csvio.read_rows(text),
                    actor=actor,
                    dry_run=dry_run,
                    chunk_size=chunk_size,
                    progress=lambda n: self.progress(n, total),
                )
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except (csvio.CsvFormatError, csv.Error, UnicodeDecodeError) as error:
            raise CommandError(f"{file}: {self.format_error(error)}") from None
        finally:
            if self.done:
                self.stderr.write("", style_func=str)  # end the progress line
        self.report(report, dry_run=dry_run)

    def count_rows(self, file: str) -> int:
        """Data rows in the file (for the progress bar); also fails early on an unreadable or non-UTF-8 file."""
        try:
            with open(file, encoding="utf-8-sig", newline="") as text:
                return max(sum(1 for _ in csv.reader(text)) - 1, 0)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise CommandError(f"{file}: {self.format_error(error)}") from None

    @staticmethod
    def format_error(error: Exception) -> str:
        if isinstance(error, UnicodeDecodeError):
            return "The file is not UTF-8 text."
        if isinstance(error, csv.Error):
            return f"The file is not valid CSV: {error}."
        return str(error)

    def progress(self, rows: int, total: int) -> None:
        self.done += rows
        share = self.done / total if total else 1
        filled = round(BAR_WIDTH * min(share, 1))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stderr.write(f"\r[{bar}] {self.done}/{total} rows ({share:.0%})", style_func=str, ending="")
        self.stderr.flush()

    def report(self, report: services.ImportReport, *, dry_run: bool) -> None:
        counts = (
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected"
        )
        self.stdout.write(f"Imported: {counts}." if report.written else f"Checked, nothing written: {counts}.")
        for error in report.rejected:
            self.stdout.write(f"line {error.index}: {error.field}: {error.message}")
        if report.rejected:
            raise CommandError(f"{len(report.rejected)} row(s) rejected; nothing was written.")
        if report.written:
            self.stdout.write(self.style.SUCCESS("Import complete."))
        elif dry_run:
            self.stdout.write("Dry run: run again without --dry-run to write.")
