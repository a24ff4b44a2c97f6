"""The attribute registry (`/crm/attribute/definition/…`): one definition per name, what its values must look like."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from .models import JSON, Reveal, _time

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
    job_id: str | None = None  # set by `define` when (un)marking a name in use started a job over its values

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
            job_id=None if data.get("job_id") is None else str(data["job_id"]),
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
        """Create the definition of `name` or replace it as a whole (PUT: what is left out takes its default).

        Marking a name in use `sensitive` (or unmarking it) starts a job that encrypts (or decrypts) its values: the
        result's `job_id` names it (`wait(definition.job_id)`)."""
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
        """Delete the definition of `name` (its attributes stay; their values are no longer checked). A sensitive
        name must be unmarked first (ValidationError)."""
        self._call("DELETE", f"/attribute/definition/{quote(name, safe='')}")

    def reveal_log(self, *, customer_id: int | None = None, attribute_name: str | None = None) -> Iterator[Reveal]:
        """Every read of a sensitive value in plain, newest first (needs manage_attribute_registry)."""
        params: dict[str, Any] = {"limit": 1000}
        if customer_id is not None:
            params["customer_id"] = customer_id
        if attribute_name is not None:
            params["attribute_name"] = attribute_name
        for data in self._pages("/attribute/reveal-log/", params):
            yield Reveal.from_json(data)
