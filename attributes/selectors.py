"""Every read of attributes that a page or endpoint shows: the tab's rows, history pages, the usage audit, the
registry with its usage. Writes are in `services`; the attribute filters (find customers by attribute) in `filters`.

The usage audit takes three queries whatever the number of names: one aggregate per name, one for the most
common values (ranked per name in the database, so only the top few rows per name come back) and one for the
registry.
"""

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page
from django.db import connection
from django.db.models import Count, F, IntegerField, Max, OuterRef, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse

from crm_project.paging import CappedPaginator
from jobs.models import Job

from .models import Attribute, AttributeDefinition, NameReservation
from .permissions import may_restore

TOP_VALUES = 5
SIMILARITY = 0.9  # difflib ratio on the normalized names at or above which two names are near-duplicates


HISTORY_PAGE_SIZE = 50
HISTORY_FIELDS = [
    "history_id", "history_date", "history_type", "attribute_id", "attribute_name", "attribute_value",
    "previous_name", "previous_value", "operation", "channel", "actor_name", "token_name",
]  # fmt: skip


# The registry


def definitions_for(names: Iterable[str]) -> dict[str, AttributeDefinition]:
    """The registry entries of these names, in one query."""
    return {d.name: d for d in AttributeDefinition.objects.filter(name__in=set(names))}


def definitions_with_usage(queryset: QuerySet | None = None) -> QuerySet:
    """Definitions annotated with `customer_count`, the customers that have the name, in the same query."""
    if queryset is None:
        queryset = AttributeDefinition.objects.order_by("name")
    usage = (
        Attribute.objects.filter(attribute_name=OuterRef("name"))
        .order_by()
        .values("attribute_name")
        .annotate(n=Count("pk"))  # one attribute per name per customer, so attributes = customers
        .values("n")
    )
    return queryset.annotate(customer_count=Coalesce(Subquery(usage, output_field=IntegerField()), Value(0)))


def name_hints() -> dict[str, dict]:
    """What the Add/Edit dialog tells the user about each defined name (embedded with `json_script`): one query."""
    return {
        d.name: {
            "description": d.description,
            "format": d.expected_format(),
            "example": d.example,
            "systems": d.systems,
            "protected": d.protected,
        }
        for d in AttributeDefinition.objects.order_by("name")
    }


def dependent_systems(*names: str) -> list[tuple[str, list[str]]]:
    """(name, systems) for those of `names` whose definition lists systems that read them."""
    definitions = AttributeDefinition.objects.filter(name__in=names).exclude(dependent_systems="")
    return [(d.name, d.systems) for d in definitions if d.systems]


# One customer's attributes and history


def attribute_rows(customer) -> list[Attribute]:
    """The Attributes tab's rows, by name, each with its definition and its Edit and Delete URLs: two queries."""
    attributes = list(customer.attributes.order_by("attribute_name"))
    definitions = definitions_for(a.attribute_name for a in attributes)
    # Reverse each row's Edit/Delete URL once per table, not per row: {% url %} per row was over half the
    # render time of a 200-row table (cProfile).
    edit, delete = (
        reverse(name, args=[customer.pk, 0]).rsplit("/0/", 1) for name in ("attributes:update", "attributes:delete")
    )
    for attribute in attributes:
        attribute.definition = definitions.get(attribute.attribute_name)  # its description on hover/focus
        attribute.edit_url = f"{edit[0]}/{attribute.attribute_id}/{edit[1]}"
        attribute.delete_url = f"{delete[0]}/{attribute.attribute_id}/{delete[1]}"
    return attributes


def history_records(**filters) -> QuerySet:
    """History rows (of a customer: `customer_id=`, of one attribute: `attribute_id=`), newest first."""
    return Attribute.history.filter(**filters).order_by("-history_date", "-history_id")


@dataclass
class HistoryRow:
    record: object  # a historical Attribute
    restorable: bool


def history_page(customer, page_number, user) -> tuple[Page, list[HistoryRow]]:
    """One page of the customer's History tab, each row saying whether `user` can restore it from there."""
    records = history_records(customer_id=customer.pk).only(*HISTORY_FIELDS)
    page = CappedPaginator(records, HISTORY_PAGE_SIZE).get_page(page_number)
    current = dict(customer.attributes.values_list("attribute_name", "attribute_value"))
    return page, [HistoryRow(record, restorable(record, current, user)) for record in page]


def restorable(record, current: dict[str, str], user) -> bool:
    """Restorable when the name is gone or now holds another value, and the user may make that write."""
    if current.get(record.attribute_name) == record.attribute_value:
        return False
    return may_restore(user, exists=record.attribute_name in current)


# Names across customers


def names_with_counts() -> QuerySet:
    """Every name in use with how many customers have it, by name (the Rename page's suggestions)."""
    return Attribute.objects.order_by("attribute_name").values("attribute_name").annotate(customers=Count("pk"))


@dataclass
class NameUsage:
    """One attribute name in use."""

    name: str
    customers: int
    distinct_values: int
    last_modified: datetime
    top_values: list[tuple[str, int]] = field(default_factory=list)  # (value, customers), most common first
    defined: bool = False
    description: str = ""


@dataclass
class UsageReport:
    names: list[NameUsage]  # every name in use, by name
    unused_definitions: list[AttributeDefinition]  # defined names no customer has
    undefined: list[str]  # names in use without a definition
    near_duplicates: list[list[str]]  # groups of two or more similar names (in use or defined), each sorted


def usage_report() -> UsageReport:
    """Every attribute name in use with its figures, the registry's unused and missing names, and near-duplicates."""
    rows = (
        Attribute.objects.order_by("attribute_name")
        .values("attribute_name")
        # One row per customer and name (unique constraint), so counting rows counts customers.
        .annotate(customers=Count("pk"), distinct_values=Count("attribute_value", distinct=True))
        .annotate(last_modified=Max("last_modified"))
    )
    names = {
        row["attribute_name"]: NameUsage(
            name=row["attribute_name"],
            customers=row["customers"],
            distinct_values=row["distinct_values"],
            last_modified=row["last_modified"],
        )
        for row in rows
    }
    for name, value, count in _top_values():
        names[name].top_values.append((value, count))
    definitions = {d.name: d for d in AttributeDefinition.objects.order_by("name")}
    for usage in names.values():
        if (definition := definitions.get(usage.name)) is not None:
            usage.defined, usage.description = True, definition.description
    return UsageReport(
        names=list(names.values()),
        unused_definitions=[d for name, d in definitions.items() if name not in names],
        undefined=[name for name, usage in names.items() if not usage.defined],
        near_duplicates=near_duplicates(set(names) | set(definitions)),
    )


def merge_suggestions(report: UsageReport) -> list[dict]:
    """For each near-duplicate group: its members with their customers, the name to merge into and the names to move.

    The target is the registry's spelling, else the most used one; unused names have nothing to move.
    """
    customers = {u.name: u.customers for u in report.names}
    defined = {u.name for u in report.names if u.defined} | {d.name for d in report.unused_definitions}
    suggestions = []
    for group in report.near_duplicates:
        target = min(group, key=lambda name: (name not in defined, -customers.get(name, 0), name))
        members = [(name, customers.get(name, 0)) for name in group]
        sources = [name for name, count in members if count and name != target]
        suggestions.append({"members": members, "target": target, "sources": sources})
    return suggestions


def _top_values() -> list[tuple[str, str, int]]:
    """(name, value, customers) for the TOP_VALUES most common values of each name, most common first."""
    counted = (
        Attribute.objects.order_by()
        .values("attribute_name", "attribute_value")
        .annotate(count=Count("pk"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("attribute_name")],
                order_by=[F("count").desc(), F("attribute_value").asc()],
            )
        )
    )
    # Filtering on a window makes Django wrap the grouped query in a subquery: the database does the ranking.
    top = counted.filter(rank__lte=TOP_VALUES).values_list("attribute_name", "attribute_value", "count", "rank")
    return [(name, value, count) for name, value, count, _rank in sorted(top, key=lambda r: (r[0], r[3]))]


def normalize(name: str) -> str:
    """The form two spellings of one name share: no underscores, no plural "s" (billing_methods -> billingmethod)."""
    flat = name.replace("_", "")
    return flat[:-1] if flat.endswith("s") and len(flat) > 1 else flat


def near_duplicates(names: set[str]) -> list[list[str]]:
    """Groups of names whose normalized forms are equal or at least SIMILARITY alike (transitively), sorted."""
    by_form: dict[str, list[str]] = {}
    for name in names:
        by_form.setdefault(normalize(name), []).append(name)
    forms = sorted(by_form, key=lambda f: (len(f), f))
    parent = {f: f for f in forms}

    def root(form: str) -> str:
        while parent[form] != form:
            parent[form] = parent[parent[form]]
            form = parent[form]
        return form

    # Sorted by length: ratio = 2 * matches / (len a + len b) >= SIMILARITY needs
    # len shorter >= len longer * SIMILARITY / (2 - SIMILARITY), so each form is compared only with the
    # slightly shorter ones before it rather than with every other name.
    for i, longer in enumerate(forms):
        matcher = difflib.SequenceMatcher(b=longer, autojunk=False)
        for shorter in reversed(forms[:i]):
            if len(shorter) < len(longer) * SIMILARITY / (2 - SIMILARITY):
                break
            matcher.set_seq1(shorter)
            if matcher.real_quick_ratio() >= SIMILARITY and matcher.quick_ratio() >= SIMILARITY:
                if matcher.ratio() >= SIMILARITY:
                    parent[root(shorter)] = root(longer)
    groups: dict[str, list[str]] = {}
    for form, members in by_form.items():
        groups.setdefault(root(form), []).extend(members)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)


def names_being_renamed(names: Iterable[str] | None = None) -> dict[str, Job]:
    """The names a running (or resumable) rename job holds, each with its job; only among `names` if given."""
    reservations = NameReservation.objects.filter(job__status__in=Job.ACTIVE).select_related("job").order_by("name")
    if names is not None:
        reservations = reservations.filter(name__in=set(names))
    return {reservation.name: reservation.job for reservation in reservations}


def first_names(limit: int) -> list[str]:
    """The first `limit` distinct names in use, by name, each found with one index probe (a loose index scan).

    `SELECT DISTINCT attribute_name` reads every row (220 ms at 1M rows); this reads `limit` entries of the
    (attribute_name, …) index, whatever the number of rows.
    """
    table = connection.ops.quote_name(Attribute._meta.db_table)
    sql = f"""
        WITH RECURSIVE names(name) AS (
            SELECT MIN(attribute_name) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(attribute_name) FROM {table} WHERE attribute_name > names.name)
            FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL LIMIT %s
    """  # noqa: S608 (the table name is ours, the limit a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]
