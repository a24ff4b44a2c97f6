"""The bearer-token lookup of every API request: token, user and permission codenames in one SQL statement.

The ORM would spend most of a request building and compiling the token query (`QuerySet.first`,
`SQLCompiler.as_sql`), and a second round trip reading permissions. The statement here is built once per
database vendor from the models' metadata; its rows are turned into model instances with the same converters
the ORM applies. Nothing is cached across requests: a revoked or expired token, a deactivated user or a removed
permission is refused by the very next request on every instance.

A view may add its own read to the statement (a `Companion`, see `BearerTokenAuthentication`): the hottest GET is
then one statement in all, where a second one cost a tenth of its throughput on PostgreSQL (the server's work per
statement and a round trip; issue 17).
"""

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, connection

from crm_project import rawrows

from .models import ApiToken

_STATEMENTS: dict[tuple[str, str], "_Statement"] = {}


@dataclass(frozen=True)
class Companion:
    """A read to run in the token's statement: `sql` selects one row of one value (a scalar subquery there, its
    `%s` parameters `params`), which `load` turns into what the view wants. The value is read whoever the token
    belongs to; it must reach the client only after DRF has checked permissions (as a view's own reads do)."""

    sql: str
    params: list
    load: Callable[[Any], Any]


# The columns a request reads; the others (the digest, creation and expiry times, the user's password hash and
# sign-in times) are deferred as with `only()`, loaded by a query if anything reads them. Each time column left out
# is one timestamp less for the driver to parse on every request.
TOKEN_FIELDS = ("id", "user", "name", "key_hint", "last_used")
USER_DEFERRED = frozenset({"password", "last_login", "date_joined"})


@functools.cache
def _user_fields() -> tuple[str, ...]:
    return tuple(f.name for f in get_user_model()._meta.concrete_fields if f.name not in USER_DEFERRED)


@dataclass(frozen=True)
class _Statement:
    sql: str
    token_columns: int


def _build(companion_sql: str = "") -> _Statement:
    qn = connection.ops.quote_name
    User = get_user_model()

    def table(model) -> str:
        return qn(model._meta.db_table)

    def column(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    user_perms = User._meta.get_field("user_permissions").remote_field.through
    user_groups = User._meta.get_field("groups").remote_field.through
    group_perms = Group._meta.get_field("permissions").remote_field.through
    perm, ctype = table(Permission), table(ContentType)
    perm_ct, perm_id = column(Permission, "content_type"), qn(Permission._meta.pk.column)
    ct_id, app_label = qn(ContentType._meta.pk.column), column(ContentType, "app_label")
    codename = column(Permission, "codename")
    up_user, up_perm = column(user_perms, "user"), column(user_perms, "permission")
    ug_user, ug_group = column(user_groups, "user"), column(user_groups, "group")
    gp_group, gp_perm = column(group_perms, "group"), column(group_perms, "permission")
    # The user's own and their groups' permissions (ModelBackend's two queries) as app_label.codename, gathered into
    # one value of the token's row: an array on PostgreSQL, a JSON array on SQLite (json_group_array). One row per
    # token, so the token's and user's columns are read and converted once, not once per permission. The union is
    # of permission ids (integers; it drops a permission held twice), joined to the names by primary key afterwards:
    # a UNION of the names sorted text, and an `IN` made SQLite test every permission there is.
    user_pk = qn(User._meta.pk.column)
    granted = (
        f"SELECT up.{up_perm} AS id FROM {table(user_perms)} up WHERE up.{up_user} = u.{user_pk} "
        f"UNION SELECT gp.{gp_perm} FROM {table(user_groups)} ug "
        f"JOIN {table(group_perms)} gp ON gp.{gp_group} = ug.{ug_group} WHERE ug.{ug_user} = u.{user_pk}"
    )
    names = f"ct.{app_label} || '.' || p.{codename}"
    gather = f"array_agg({names})" if connection.vendor == "postgresql" else f"json_group_array({names})"
    permissions = (
        f"SELECT {gather} FROM ({granted}) granted JOIN {perm} p ON p.{perm_id} = granted.id "
        f"JOIN {ctype} ct ON ct.{ct_id} = p.{perm_ct}"
    )
    selected = rawrows.columns(ApiToken, "t", TOKEN_FIELDS) + rawrows.columns(User, "u", _user_fields())
    # Superusers hold every permission without a lookup (User.has_perm), so their rows skip the subquery.
    # A companion's value is one more column, last; the row exists only for a valid token, so an invalid one costs
    # nothing more.
    also = f", ({companion_sql})" if companion_sql else ""
    sql = (
        f"SELECT {', '.join(selected)}, CASE WHEN u.{column(User, 'is_superuser')} THEN NULL ELSE "
        f"({permissions}) END{also} FROM {table(ApiToken)} t "
        f"JOIN {table(User)} u ON u.{user_pk} = t.{column(ApiToken, 'user')} "
        f"WHERE t.{column(ApiToken, 'key_digest')} = %s "
        f"AND (t.{column(ApiToken, 'expires')} IS NULL OR t.{column(ApiToken, 'expires')} > %s) "
        f"AND u.{column(User, 'is_active')}"
    )
    return _Statement(sql, len(TOKEN_FIELDS))


def _rows(key_digest: str, now, companion: Companion | None) -> tuple[_Statement, list[tuple]]:
    key = (connection.vendor, companion.sql if companion else "")
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _build(key[1])
    params = [key_digest, connection.ops.adapt_datetimefield_value(now)]
    if companion is not None:  # its placeholders come first: its column precedes the WHERE clause
        params = [*companion.params, *params]
    for attempt in range(2):
        try:
            return statement, rawrows.fetchall(statement.sql, params)
        except (OperationalError, InterfaceError):
            # The persistent connection died since the last request (the server restarted, a proxy dropped it):
            # this is the request's first statement, a read outside any transaction, so run it once more on a new
            # connection instead of paying a health check (`SELECT 1`) on every request.
            if attempt or connection.in_atomic_block:
                raise
            connection.close()
    raise AssertionError("unreachable")


def active_token(key_digest: str, now, companion: Companion | None = None) -> ApiToken | None:
    """The unexpired token with this digest, its active user as `token.user`, and the user's permissions loaded
    (`user._perm_cache`, what `ModelBackend.get_all_permissions` reads); None if there is no such token.

    With a `companion`, its loaded value is `token.companion` (the attribute is absent without one)."""
    statement, rows = _rows(key_digest, now, companion)
    if not rows:
        return None
    (row,) = rows
    if companion is not None:
        *row, value = row
    split = statement.token_columns
    token = rawrows.instance(ApiToken, row[:split], TOKEN_FIELDS)
    user = rawrows.instance(get_user_model(), row[split:-1], _user_fields())
    if companion is not None:
        token.companion = companion.load(value)
    if not user.is_superuser:
        names = row[-1]
        if isinstance(names, str):  # SQLite's JSON array
            names = json.loads(names)
        user._perm_cache = set(names or ())
    token.user = user  # fills the foreign key's cache, as select_related would
    return token
