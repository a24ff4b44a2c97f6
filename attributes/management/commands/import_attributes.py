"""Import attributes from a CSV file (customer_id,attribute_name,attribute_value) as an import job.

For files too large for the web import. By default the job is started and run here, in the foreground, with its
progress read from the job as it goes; `--background` only starts it (a worker runs it) and prints its id.
Every row is checked first; with any rejected row they are listed and nothing is written. `--dry-run` checks
and reports, writing nothing and starting no job. Runs as the system (no permission check) unless --user names
the acting user. Ctrl-C stops the job at its next chunk; it goes back to the queue and a worker finishes it.
"""

import csv
import os

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from attributes import csvio, services
from attributes.history import write_channel
from jobs import runner
from jobs.models import Job

from ..users import command_actor

BAR_WIDTH = 30
POLL_SECONDS = 0.25


class Command(BaseCommand):
    help = "Import customer attributes from a CSV file (customer_id,attribute_name,attribute_value) as a job."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8); extra columns are ignored.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument(
            "--background", action="store_true", help="Only start the job (a worker runs it) and print its id."
        )
        parser.add_argument("--user", metavar="USERNAME", help="Act as this user (needs create and update permission).")
        parser.add_argument(
            "--chunk-size", type=int, default=None, help="Rows per committed chunk (default ATTRIBUTES_IMPORT_CHUNK)."
        )

    def handle(self, *args, file: str, dry_run: bool, background: bool, user: str | None, chunk_size, **options):
        if chunk_size is not None and chunk_size < 1:
            raise CommandError("--chunk-size must be 1 or more.")
        actor = command_actor(user)
        text = self.read(file)
        self.done = 0
        try:
            with write_channel("cli"):
                if dry_run:
                    total = self.count_rows(text)
                    report = csvio.run_import(text, actor=actor, dry_run=True)
                    self.progress(total, total)
                    self.stderr.write("", style_func=str)
                    self.report(report.created, report.updated, report.unchanged, report.rejected, written=False)
                    if report.rejected:
                        raise CommandError(f"{len(report.rejected)} row(s) rejected; nothing was written.")
                    self.stdout.write("Dry run: run again without --dry-run to write.")
                    return
                job = services.import_start(
                    text=text, actor=actor, filename=os.path.basename(file), chunk_size=chunk_size
                )
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except csvio.CsvFormatError as error:
            raise CommandError(f"{file}: {error}") from None
        if background:
            self.stdout.write(f"Started import job {job.pk}; a worker runs it (manage.py run_worker).")
            self.stdout.write(str(job.pk))
            return
        self.run_in_foreground(job)

    def read(self, file: str) -> str:
        try:
            with open(file, "rb") as source:
                return csvio.decode_upload(source.read()).getvalue()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except csvio.CsvFormatError as error:
            raise CommandError(f"{file}: {error}") from None

    @staticmethod
    def count_rows(text: str) -> int:
        """Data rows in the text, for the dry run's progress line."""
        try:
            return max(sum(1 for _ in csv.reader(text.splitlines())) - 1, 0)
        except csv.Error:
            return 0

    def run_in_foreground(self, job: Job) -> None:
        """Run the job here, drawing its progress after each committed chunk; Ctrl-C leaves it queued, resumable."""
        job = runner.run_here(job, progress=self.show, poll_seconds=POLL_SECONDS)
        self.show(job.done, job.total)
        if self.done:
            self.stderr.write("", style_func=str)  # end the progress line
        self.outcome(job)

    def show(self, done: int, total: int | None) -> None:
        if done > self.done or (done == self.done == 0 and total == 0):
            self.progress(done, total or 0)

    def progress(self, done: int, total: int) -> None:
        self.done = done
        share = done / total if total else 1
        filled = round(BAR_WIDTH * min(share, 1))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stderr.write(f"\r[{bar}] {done}/{total} rows ({share:.0%})", style_func=str, ending="")
        self.stderr.flush()

    def outcome(self, job: Job) -> None:
        result = job.result or {}
        rejected = [services.ItemError(e["line"], e["field"], e["message"]) for e in result.get("rejected", [])]
        counts = (result.get("created", 0), result.get("updated", 0), result.get("unchanged", 0))
        if job.status == Job.Status.SUCCEEDED:
            self.report(*counts, rejected, written=True)
            for row in result.get("skipped", []):
                self.stdout.write(f"line {row['line']}: skipped: {row['field']}: {row['message']}")
            self.stdout.write(self.style.SUCCESS(f"Import complete (job {job.pk})."))
        elif job.status == Job.Status.FAILED:
            if rejected:
                self.report(*counts, rejected, written=False)
                raise CommandError(f"{len(rejected)} row(s) rejected; nothing was written.")
            raise CommandError(f"The import failed: {job.error}")
        elif job.status == Job.Status.CANCELLED:
            raise CommandError(
                f"The import was cancelled after {job.done} of {job.total} rows: "
                f"{counts[0]} created, {counts[1]} updated, {counts[2]} unchanged so far."
            )
        else:  # stopped by Ctrl-C (or a shutdown) between chunks: queued again with its checkpoint
            raise CommandError(
                f"Stopped after {job.done} of {job.total} rows; job {job.pk} is queued again and a worker "
                "(manage.py run_worker) will finish it."
            )

    def report(self, created: int, updated: int, unchanged: int, rejected: list, *, written: bool) -> None:
        counts = f"{created} created, {updated} updated, {unchanged} unchanged, {len(rejected)} rejected"
        self.stdout.write(f"Imported: {counts}." if written else f"Checked, nothing written: {counts}.")
        for error in rejected:
            self.stdout.write(f"line {error.index}: {error.field}: {error.message}")
