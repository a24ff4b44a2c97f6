"""URL converters shared by every app."""

from django.urls import register_converter

# Integer primary keys are at most 2**63 - 1 on both databases; a larger number in a URL is simply
# not an object (404), not an overflow error in the database driver (500).
MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("id out of range")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
