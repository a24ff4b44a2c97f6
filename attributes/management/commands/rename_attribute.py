"""Rename or merge an attribute name across all customers, all or nothing, as a rename job.

By default the command starts the job and runs it here, in the foreground, printing its progress (a worker
that grabs it first runs it instead, and the command follows it); `--background` only starts it for the
workers and prints its id. `--dry-run` reports at once and starts nothing.

Recorded in history with the channel "cli". With --user it acts as that user, who needs what the Rename page
needs (manage_attribute_registry, update and delete: `permissions.require_rename_all`). Without --user it runs as
the system (actor None, no permission check), like `import_attributes`: whoever runs manage.py already holds the
database credentials.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from attributes import services
from attributes.history import write_channel
from jobs import runner

from ..users import command_actor


class Command(BaseCommand):
    help = (
        "Rename attribute OLD to NEW on every customer; where a customer has both, merge them. "
        "Refused (nothing written) when a customer has both with different values, unless --prefer says which wins."
    )

    def add_arguments(self, parser):
        parser.add_argument("old", help="The attribute name to rename.")
        parser.add_argument("new", help="The new name (merged into where a customer already has it).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument(
            "--background", action="store_true", help="Only start the job (workers run it) and print its id."
        )
        parser.add_argument(
            "--prefer",
            choices=["old", "new"],
            help="Which value wins when a customer has both names with different values.",
        )
        parser.add_argument(
            "--confirm",
            metavar="OLD",
            help="OLD again, to rename a name the registry marks protected (it disappears for every integration).",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Act as this user (needs manage_attribute_registry, update and delete permission); "
            "without it the command runs as the system.",
        )

    def handle(
        self,
        *args,
        old: str,
        new: str,
        dry_run: bool,
        background: bool = False,
        prefer: str | None,
        confirm: str | None,
        user: str | None = None,
        **options,
    ):
        actor = command_actor(user)
        try:
            with write_channel("cli"):
                if dry_run:
                    report = services.attribute_rename_all(old=old, new=new, actor=actor, prefer=prefer)
                else:
                    job = services.rename_start(old=old, new=new, actor=actor, prefer=prefer, confirm=confirm)
                    if background:
                        self.stdout.write(f"Started job {job.pk}: python manage.py run_worker runs it.")
                        return
                    self.stdout.write(f"Started job {job.pk}; running it here (Ctrl-C stops it, resumable).")
                    report = services.RenameReport.from_job(self.follow(job))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        counts = f"{report.renamed} renamed, {report.merged} merged, {len(report.conflicts)} conflicts"
        counts += f", {len(report.invalid)} invalid"
        self.stdout.write(f"{old} -> {new}: {counts}.")
        for customer_id, old_value, new_value in report.conflicts:
            self.stdout.write(f"conflict: customer {customer_id}: {old}={old_value!r}, {new}={new_value!r}")
        for customer_id, message in report.invalid:
            self.stdout.write(f"invalid: customer {customer_id}: {message}")
        if report.conflicts:
            raise CommandError(
                f"{len(report.conflicts)} customer(s) have both names with different values; nothing was written. "
                "Pass --prefer old or --prefer new to choose which value wins."
            )
        if report.invalid:
            raise CommandError(
                f"{len(report.invalid)} value(s) do not fit the registry definition of {new}; nothing was written."
            )
        if report.job is not None and not report.written:
            raise CommandError(f"The rename job ended {report.job.status}: {report.job.error or 'see its page'}.")
        if report.written:
            self.stdout.write(self.style.SUCCESS("Rename complete."))
        else:
            self.stdout.write("Dry run: nothing written. Run again without --dry-run to rename.")

    def follow(self, job):
        """Run the job here, printing a line per committed chunk; Ctrl-C leaves it queued, resumable."""
        old, new = job.params["old"], job.params["new"]
        shown = 0

        def progress(done: int, total: int | None) -> None:
            nonlocal shown
            if done > shown:
                shown = done
                self.stdout.write(f"rename {old} -> {new}: {done} of {total} customers")

        job = runner.run_here(job, progress=progress)
        if job.status == job.Status.QUEUED:
            raise CommandError(f"Stopped; job {job.pk} is queued again with its progress: run_worker finishes it.")
        return job
