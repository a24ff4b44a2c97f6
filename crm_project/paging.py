"""Pagination and prefix search that stay cheap on tables of millions of rows (pages, admin changelists).

`CappedPaginator` counts at most `cap` rows: `SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)` reads no more than
that, where a plain `COUNT(*)` of a million-row list reads every row, and it bounds how deep a page can be
(OFFSET reads every row it skips). Past the cap, the count shows as "10,000+": narrow the search to see more.

`prefix_q` is a `startswith` that an ordinary B-tree index can serve. PostgreSQL uses such an index for
`LIKE 'abc%'` only under the "C" collation (not even "C.UTF-8" before PostgreSQL 17), so the prefix is turned into
the range `abc <= column < abd`, which any B-tree serves; in code-point collations (C, C.UTF-8, POSIX, SQLite's
BINARY) the range holds exactly the values that start with the prefix, and `startswith` is kept as a recheck. On
a database with a linguistic collation the range is not exact, so there it is a plain (unindexed) `startswith`.
"""

from functools import cache, cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A Paginator whose count stops at `cap` (so its last page is at most `cap // per_page` deep)."""

    def __init__(self, *args, cap: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, list):
            return min(len(self.object_list), self.cap)
        # Without its ORDER BY: counting the first `cap` matches in any order needs no sort of all of them.
        return self.object_list.order_by()[: self.cap].count()

    @cached_property
    def capped(self) -> bool:
        """True when there are more rows than the count says: only the first `cap` can be paged through."""
        if isinstance(self.object_list, list):
            return len(self.object_list) > self.cap
        return self.count >= self.cap and self.object_list.order_by()[self.cap :].exists()


@cache
def _code_point_collation(alias: str) -> bool:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return connection.vendor == "sqlite"  # SQLite compares text byte by byte (BINARY): code-point order
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        (collation,) = cursor.fetchone()
    return collation.split(".")[0] in {"C", "POSIX"}


def prefix_q(field: str, prefix: str, *, using: str = "default") -> Q:
    """`field` starts with `prefix` (case-sensitive), as a range an ordinary B-tree index on `field` serves."""
    if not prefix:
        return Q()
    startswith = Q(**{f"{field}__startswith": prefix})
    last = ord(prefix[-1])
    if not _code_point_collation(using) or last >= 0x10FFFF or 0xD7FF <= last < 0xE000:
        return startswith
    upper = prefix[:-1] + chr(last + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper}) & startswith


def search_terms(search_term: str) -> list[str]:
    """An admin search split as Django's own search splits it: words, or "quoted phrases" without their quotes."""
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        terms.append(bit)
    return terms
