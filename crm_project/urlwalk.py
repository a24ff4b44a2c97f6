"""The project's routes, read from its URL configuration (shared by the permission sweep and the benchmark's sweep).

A route's name is `namespace:name`, or `/<route>` for an unnamed URL; a namespace walked with `collapse` is one
route named `<namespace>:*`.
"""

import dataclasses
from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver


@dataclasses.dataclass(frozen=True)
class Route:
    name: str
    route: str  # as the URL configuration writes it, for messages
    params: tuple[str, ...]
    callback: Callable | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def is_api(self) -> bool:
        return self.route.startswith("crm/") and self.name not in {"schema", "swagger-ui"}

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0] if not self.name.startswith("/") else ""


def walk(patterns=None, *, collapse: frozenset[str] = frozenset()) -> Iterator[Route]:
    """Every route under `patterns` (default: the root URL configuration)."""
    return _walk(get_resolver().url_patterns if patterns is None else patterns, collapse=collapse)


def _walk(patterns, prefix: str = "", namespace: str = "", params: tuple[str, ...] = (), *, collapse):
    for pattern in patterns:
        names = params + tuple(pattern.pattern.regex.groupindex)
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            if inner and inner.split(":")[0] in collapse:
                yield Route(f"{inner.split(':')[0]}:*", route, ())
                continue
            yield from _walk(pattern.url_patterns, route, inner, names, collapse=collapse)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:
                name = "/" + route
            yield Route(name, route, names, pattern.callback)
