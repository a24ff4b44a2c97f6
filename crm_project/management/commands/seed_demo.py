"""Create demo data: telco/ISP customers, their attributes and, with DEBUG on, a demo superuser. Idempotent.

A project command (not customers'): it seeds every app's demo data, and customers imports no other app.
"""

import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from attributes import services
from attributes.demo import demo_attributes, seed_definitions
from attributes.history import write_channel
from attributes.models import Attribute
from customers.models import Customer

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 (printed on purpose; only created when DEBUG is on)

_PREFIXES = [
    "North",
    "Blue",
    "Metro",
    "Summit",
    "River",
    "Coastal",
    "Prairie",
    "Granite",
    "Harbor",
    "Valley",
    "Pioneer",
    "Lakeside",
    "Evergreen",
    "Copper",
    "Silver",
    "Redwood",
    "Beacon",
    "Frontier",
]
_NOUNS = ["Fiber", "Networks", "Broadband", "Telecom", "Wireless", "Hosting", "Data", "Cable", "Connect", "Link"]
_SUFFIXES = ["Ltd", "LLC", "Inc", "Co-op", "GmbH", "Group"]
_FIRST = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
]
_LAST = [
    "Smith",
    "Garcia",
    "Nguyen",
    "Okafor",
    "Muller",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Silva",
    "Johansson",
    "Novak",
    "Ibrahim",
    "Patel",
    "Dubois",
    "Kim",
    "Moreau",
    "Costa",
]


def demo_customer(customer_id: int, rng: random.Random) -> Customer:
    """One deterministic demo customer: the same id always gets the same data."""
    if rng.random() < 0.35:
        name = f"{rng.choice(_PREFIXES)} {rng.choice(_NOUNS)} {rng.choice(_SUFFIXES)}"
        account_type = Customer.AccountType.BUSINESS
        email = f"noc@{name.split()[0].lower()}{name.split()[1].lower()}.example"
    else:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        name = f"{first} {last}"
        account_type = Customer.AccountType.INDIVIDUAL
        email = f"{first.lower()}.{last.lower()}{customer_id}@mail.example"
    status = rng.choices(Customer.Status.values, weights=[85, 10, 5])[0]
    return Customer(
        customer_id=customer_id,
        customer_name=name,
        customer_account_type=account_type,
        customer_status=status,
        email=email,
        phone=f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        notes="",
    )


class Command(BaseCommand):
    help = "Create demo customers (ids 1..N, existing ones kept) and, when DEBUG is on, a demo superuser."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50, help="number of demo customers (default 50)")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, customers: int, batch_size: int, **options):
        if customers < 0:
            raise CommandError("--customers must be 0 or more")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        seed_definitions()  # first, so the demo attributes are checked against them like any write
        created = self.seed_customers(customers, batch_size)
        self.stdout.write(
            self.style.SUCCESS(f"Demo customers: {created} created, {customers - created} already there.")
        )
        if settings.DEBUG:
            self.seed_user()
        else:
            self.stdout.write("DEBUG is off: no demo login created.")

    def seed_customers(self, count: int, batch_size: int) -> int:
        before = Customer.objects.filter(customer_id__lte=count).count()
        show_progress = count >= 10 * batch_size or count > 20000
        for start in range(1, count + 1, batch_size):
            stop = min(start + batch_size, count + 1)
            batch = [demo_customer(i, random.Random(i)) for i in range(start, stop)]
            with transaction.atomic():
                Customer.objects.bulk_create(batch, ignore_conflicts=True)
            self.seed_attributes(range(start, stop))
            if show_progress:
                self.stdout.write(f"\r  customers {stop - 1:>9,}/{count:,} ({(stop - 1) * 100 // count}%)", ending="")
                self.stdout.flush()
        if show_progress:
            self.stdout.write("")
        self.reset_sequence()
        return Customer.objects.filter(customer_id__lte=count).count() - before

    def seed_attributes(self, customer_ids: range) -> None:
        """Demo attributes for customers that have none yet (so edits made in the demo survive a re-run)."""
        with_attributes = set(
            Attribute.objects.filter(customer_id__in=customer_ids).values_list("customer_id", flat=True).distinct()
        )
        rows = [
            (index, customer_id, name, value)
            for index, customer_id in enumerate(customer_ids)
            if customer_id not in with_attributes
            for name, value in demo_attributes(customer_id).items()
        ]
        if rows:
            with write_channel("seed"):
                report = services.attribute_import(rows=rows, actor=None, dry_run=False, operation="seed")
            if report.rejected:
                raise CommandError(f"Demo attributes rejected: {report.rejected[:3]}")

    def reset_sequence(self) -> None:
        """Explicit ids leave PostgreSQL's sequence behind; move it past the highest id."""
        from django.core.management.color import no_style
        from django.db import connection

        for sql in connection.ops.sequence_reset_sql(no_style(), [Customer]):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    def seed_user(self) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True, "first_name": "Demo"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(self.style.SUCCESS(f"Demo login: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}"))
