"""The change feed as an iterator that resumes from a stored sequence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .models import Event


class EventStream:
    """Events after `after`, in sequence order, one page (`limit`) per request.

    `position` is the sequence of the last event handed out: store it after handling an event and pass it as
    `after` next time (a new process included) to go on without missing or repeating one. A page lost to a dropped
    connection is asked for again from the same position (the request is a GET, retried by the client), so an
    interruption never skips or repeats an event. Without `follow` the iteration ends when the feed is caught up;
    with it, it waits `poll_interval` seconds and asks again, for ever.
    """

    def __init__(
        self,
        fetch: Callable[[int, dict[str, Any]], tuple[list[Event], int]],
        *,
        after: int,
        limit: int,
        filters: dict[str, Any],
        follow: bool,
        poll_interval: float,
        sleep: Callable[[float], None],
    ) -> None:
        self._fetch = fetch
        self.position = after
        self._params: dict[str, Any] = {"limit": limit, **filters}
        self._follow = follow
        self._poll_interval = poll_interval
        self._sleep = sleep

    def __iter__(self) -> Iterator[Event]:
        cursor = self.position
        while True:
            events, following = self._fetch(cursor, self._params)
            for event in events:
                self.position = event.sequence
                yield event
            if events:
                cursor = following
                continue
            if not self._follow:
                return
            self._sleep(self._poll_interval)
