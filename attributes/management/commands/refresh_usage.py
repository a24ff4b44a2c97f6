"""`manage.py refresh_usage [--all]`: refresh the usage audit's figures now, in the foreground.

Workers do this every USAGE_REFRESH_SECONDS on their own (a periodic job); the command is for a first build on a
large database, or to see fresh figures at once. Without --all it recomputes the names changed since the last
refresh (every name when there was none).
"""

from django.core.management.base import BaseCommand

from attributes.services import usage_refresh


class Command(BaseCommand):
    help = "Recompute the usage audit's figures of the names changed since the last refresh (--all: every name)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Recompute every name, not only the changed ones.")

    def handle(self, *, all: bool, **options):
        result = usage_refresh(full=all)
        self.stdout.write(f"Refreshed {result['names']} name(s){' (all)' if result['full'] else ''}.")
