"""Parsing untrusted text: ids and counts from URLs, query strings and CSV cells; text no database can store.

`str.isdigit()` is true for "²" (which `int()` refuses) and for Arabic-Indic "١٢" (which `int()` reads as 12),
so every id and count the product accepts goes through `parse_int`/`parse_id`: ASCII digits only.
"""

import re
import unicodedata

# Integer primary keys are at most 2**63 - 1 on both databases.
MAX_ID = 2**63 - 1
_ASCII_DIGITS_RE = re.compile(r"[0-9]{1,19}")
# NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded as UTF-8 at all.
UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def parse_int(raw: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """The integer `raw` spells in ASCII digits (no sign, no spaces), if within bounds; otherwise None."""
    if not isinstance(raw, str) or not _ASCII_DIGITS_RE.fullmatch(raw):
        return None
    number = int(raw)
    return number if minimum <= number <= maximum else None


def parse_id(raw: object) -> int | None:
    """A primary key: 1 to 2**63 - 1 in ASCII digits, or None."""
    return parse_int(raw, minimum=1)


def unstorable_character(text: str) -> str | None:
    """The first character of `text` that no database column can hold (NUL, a lone surrogate), if any."""
    match = UNSTORABLE_RE.search(text)
    return match.group() if match else None


# Characters that show nothing on their own: format controls (ZWSP, BOM, bidi overrides…), combining marks
# without a base, spaces and separators, controls, and the few letters/symbols that render blank.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp", "Cs"})
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_character(text: str) -> bool:
    """Whether `text` would show anything: "\u200b", "\ufeff\u202e" or a lone combining mark do not."""
    return any(unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_GLYPHS for char in text)
