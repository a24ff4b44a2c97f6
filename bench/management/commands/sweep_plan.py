"""Print the scale sweep's plan (bench/sweep_plan.py) as JSON: what bench/sweep.py requests."""

import json

from django.core.management.base import BaseCommand

from bench.sweep_plan import build_plan


class Command(BaseCommand):
    help = "Print, as JSON, every route of the URL configuration filled with real objects, for the scale sweep."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(build_plan()))
