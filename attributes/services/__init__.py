"""Every write to attributes: the web UI, the API, admin, imports and management commands all call these.

Each function validates with the model's rules (`full_clean`) and the registry, checks the actor's
permission through `attributes.permissions`, records history, and leaves integrity to the database's
unique constraint, so concurrent writers of one name for one customer end with exactly one row and no error.

`actor` is the user doing the write; `None` means trusted system code (seeding, migrations).
`if_match` carries HTTP-style entity tags (`Attribute.etag`, or "*") for lost-update protection: a
write whose expected version is stale raises `PreconditionFailed` and changes nothing.
"""

from .bulk import (
    BULK_MAX_ITEMS,
    BulkRejected,
    ImportReport,
    ItemError,
    attribute_bulk_upsert,
    attribute_import,
)
from .common import PreconditionFailed, Result, UpsertResult, definitions_for, normalize_and_validate
from .definitions import definition_create, definition_delete, definition_update
from .imports import import_authorize, import_start
from .rename import RenameReport, attribute_rename_all, rename_start
from .retention import PRUNE_BATCH, PruneReport, history_cutoff, history_prune
from .sensitivity import rotate_start, sensitivity_start
from .single import attribute_delete, attribute_restore, attribute_update, attribute_upsert
from .usage import usage_refresh

__all__ = [
    "BULK_MAX_ITEMS",
    "PRUNE_BATCH",
    "PruneReport",
    "history_cutoff",
    "history_prune",
    "BulkRejected",
    "ImportReport",
    "ItemError",
    "PreconditionFailed",
    "RenameReport",
    "Result",
    "UpsertResult",
    "attribute_bulk_upsert",
    "attribute_delete",
    "attribute_import",
    "attribute_rename_all",
    "attribute_restore",
    "rename_start",
    "rotate_start",
    "sensitivity_start",
    "attribute_update",
    "attribute_upsert",
    "definition_create",
    "definition_delete",
    "definition_update",
    "definitions_for",
    "import_authorize",
    "import_start",
    "normalize_and_validate",
    "usage_refresh",
]
