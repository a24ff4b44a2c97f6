"""The attribute registry (`/crm/attribute/definition/…`): one definition per name, what its values must look like."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from .models import JSON, _time

ValueType = Literal["text", "boolean", "integer", "decimal", "date", "datetime", "email", "url", "choice", "regex"]


@dataclass(frozen=True, slots=True)
class Definition:
    """A registry entry. `choices` (for `choice`) and `dependent_systems` are lists here; the API keeps them as text
    (one choice per line, systems comma-separated)."""

    name: str
    description: str
    value_type: ValueType
    choices: list[str]
    pattern: str
    example: str
    dependent_systems: list[str]
    protected: bool
    sensitive: bool
    created: datetime
    last_modified: datetime

    @classmethod
    def from_json(cls, data: JSON) -> Definition:
        return cls(
            name=str(data["name"]),
            description=str(data["description"]),
            value_type=data["value_type"],
            choices=[line.strip() for line in str(data["choices"]).splitlines() if line.strip()],
            pattern=str(data["pattern"]),
            example=str(data["example"]),
            dependent_systems=[s.strip() for s in str(data["dependent_systems"]).split(",") if s.strip()],
            protected=bool(data["protected"]),
            sensitive=bool(data.get("sensitive", False)),
            created=_time(data["created"]),
            last_modified=_time(data["last_modified"]),
        )


class RegistryMixin:
    """The registry methods of `Client` (which provides `_call` and `_pages`)."""

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def _pages(self, path: str, params: Any) -> Iterator[Any]:
        raise NotImplementedError

    def definitions(self) -> Iterator[Definition]:
        """Every definition, by name."""
        for data in self._pages("/attribute/definition/", {"limit": 1000}):
            yield Definition.from_json(data)

    def definition(self, name: str) -> Definition:
        """The definition of `name` (NotFound when the name is not defined)."""
        return Definition.from_json(self._call("GET", f"/attribute/definition/{quote(name, safe='')}").json())

    def define(
        self,
        name: str,
        *,
        description: str = "",
        value_type: ValueType = "text",
        choices: Iterable[str] = (),
        pattern: str = "",
        example: str = "",
        dependent_systems: Iterable[str] = (),
        protected: bool = False,
        sensitive: bool = False,
    ) -> Definition:
        """Create the definition of `name` or replace it as a whole (PUT: what is left out takes its default)."""
        body = {
            "description": description,
            "value_type": value_type,
            "choices": "\n".join(choices),
            "pattern": pattern,
            "example": example,
            "dependent_systems": ", ".join(dependent_systems),
            "protected": protected,
            "sensitive": sensitive,
        }
        response = self._call("PUT", f"/attribute/definition/{quote(name, safe='')}", json=body)
        return Definition.from_json(response.json())

    def undefine(self, name: str) -> None:
        """Delete the definition of `name` (its attributes stay; their values are no longer checked)."""
        self._call("DELETE", f"/attribute/definition/{quote(name, safe='')}")
