"""Delete attribute history older than the retention (settings.HISTORY_RETENTION_DAYS, or --days), in batches.

Each batch is its own transaction, so the command can run beside the application, be stopped at any moment and
be run again. Meant for a daily cron job or systemd timer (see the README). Without a retention it does nothing.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attributes import services


class Command(BaseCommand):
    help = "Delete attribute history rows older than HISTORY_RETENTION_DAYS (or --days), in bounded batches."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Keep this many days of history (default: the setting).")
        parser.add_argument(
            "--batch", type=int, default=services.PRUNE_BATCH, help="Rows deleted per transaction (default 5000)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the rows that would go; delete nothing.")

    def handle(self, *args, days=None, batch, dry_run, **options):
        days = days if days is not None else settings.HISTORY_RETENTION_DAYS
        if days is None:
            self.stdout.write("HISTORY_RETENTION_DAYS is not set and no --days given: all history is kept.")
            return
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        cutoff = services.history_cutoff(days)

        def progress(count: int, total: int) -> None:
            self.stdout.write(f"deleted {count} (total {total})")

        report = services.history_prune(older_than=cutoff, batch=batch, dry_run=dry_run, on_batch=progress)
        when = cutoff.isoformat(timespec="seconds")
        if dry_run:
            self.stdout.write(f"Dry run: {report.deleted} history rows older than {when} would be deleted.")
        else:
            self.stdout.write(f"Deleted {report.deleted} history rows older than {when} in {report.batches} batches.")
