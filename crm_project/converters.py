"""URL converters shared by every app."""

from django.urls import register_converter

from .parsing import parse_id


class IdConverter:
    """A primary key in a URL: ASCII digits (the regex's [0-9] is ASCII-only, unlike \\d), 1 to 2**63 - 1.

    A larger number is simply not an object (404), not an overflow error in the database driver (500).
    """

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError("not an id")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
