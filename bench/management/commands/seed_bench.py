"""Seed the benchmark data set: N customers and about M attributes, through the normal import path."""

import random
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from attributes import services
from attributes.history import write_channel
from attributes.models import Attribute
from bench.data import attributes_for
from crm_project.management.commands.seed_demo import demo_customer
from customers.models import Customer

BATCH = 5000  # customers per transaction


class Command(BaseCommand):
    help = "Seed customers 1..N and ~M attributes (skewed common names plus a long tail) unless already there."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--attributes", type=int, default=1_000_000)

    def handle(self, *args, customers: int, attributes: int, **options):
        if customers < 1 or attributes < 0:
            raise CommandError("--customers must be at least 1 and --attributes at least 0")
        have_customers = Customer.objects.filter(customer_id__lte=customers).count()
        have_attributes = Attribute.objects.count()
        if have_customers == customers and have_attributes >= attributes * 0.9:
            self.stdout.write(f"Data set present: {have_customers:,} customers, {have_attributes:,} attributes.")
            return
        per_customer = attributes / customers * (10 / 9.06)  # attributes_for() averages 9.06 at scale 10
        started = time.monotonic()
        written = 0
        with write_channel("seed"):
            for start in range(1, customers + 1, BATCH):
                ids = range(start, min(start + BATCH, customers + 1))
                with transaction.atomic():
                    Customer.objects.bulk_create(
                        [demo_customer(i, random.Random(i)) for i in ids], ignore_conflicts=True, batch_size=1000
                    )
                    rows = [(cid, cid, name, value) for cid in ids for name, value in attributes_for(cid, per_customer)]
                    report = services.attribute_import(
                        rows=rows, actor=None, dry_run=False, chunk_size=2000, operation="seed"
                    )
                if report.rejected:
                    raise CommandError(f"seed data rejected: {report.rejected[:3]}")
                written += report.created
                done = ids[-1]
                rate = done / (time.monotonic() - started)
                sys.stderr.write(
                    f"\r  seeding {done:>9,}/{customers:,} customers ({done * 100 // customers:3d}%), "
                    f"{written:,} attributes, {rate:,.0f} customers/s"
                )
                sys.stderr.flush()
        sys.stderr.write("\n")
        from crm_project.management.commands.seed_demo import Command as SeedDemo

        SeedDemo().reset_sequence()
        # Fresh planner statistics (and, on PostgreSQL, the visibility map that index-only scans need),
        # as autovacuum would provide some time after a bulk load.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        self.stdout.write(
            f"Seeded {customers:,} customers and {Attribute.objects.count():,} attributes "
            f"in {time.monotonic() - started:.0f} s."
        )
