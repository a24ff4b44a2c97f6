"""`manage.py check_ready`: a worker's readiness probe (database, migrations, job queue); exits 1 when not ready."""

import json

from django.core.management.base import BaseCommand, CommandError

from crm_project.readiness import is_ready, readiness


class Command(BaseCommand):
    help = "Exit 0 when the database answers, migrations are applied and the job queue is reachable; else 1."

    def handle(self, **options):
        checks = readiness()
        self.stdout.write(json.dumps(checks))
        if not is_ready(checks):
            raise CommandError("not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok"))
