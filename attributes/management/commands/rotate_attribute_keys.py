"""Re-encrypt every sensitive value under the first key of ATTRIBUTE_ENCRYPTION_KEYS, as a background job.

Rotation: put the new key first in ATTRIBUTE_ENCRYPTION_KEYS (keep the old ones after it), restart, run this; once
it has finished, the old keys can go (a backup taken before needs them to be read). By default the job runs here
with its progress; `--background` only starts it for the workers.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from attributes import services
from attributes.services.sensitivity import stored_under_other_keys
from jobs import runner


class Command(BaseCommand):
    help = "Re-encrypt every sensitive attribute value under the first key of ATTRIBUTE_ENCRYPTION_KEYS (a job)."

    def add_arguments(self, parser):
        parser.add_argument("--background", action="store_true", help="Only start the job and print its id.")

    def handle(self, *args, background: bool = False, **options):
        try:
            stale = stored_under_other_keys()
            job = services.rotate_start(actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Started job {job.pk}: {stale} value(s) not under the first key.")
        if background:
            self.stdout.write("python manage.py run_worker runs it.")
            return

        def progress(done: int, total: int | None) -> None:
            self.stdout.write(f"re-encrypted {done} of {total}")

        job = runner.run_here(job, progress=progress)
        if job.status == job.Status.QUEUED:
            raise CommandError(f"Stopped; job {job.pk} is queued again with its progress: run_worker finishes it.")
        if job.status != job.Status.SUCCEEDED:
            raise CommandError(f"Job {job.pk} {job.status}: {job.error}")
        self.stdout.write(f"Done: {job.done} value(s) re-encrypted.")
