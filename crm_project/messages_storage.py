"""Django's message storage, made only for the requests that use messages."""

from functools import cached_property

from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.fallback import FallbackStorage


class LazyFallbackStorage(FallbackStorage):
    """FallbackStorage (a signed cookie, then the session), whose two storages are made when messages are first read
    or written instead of on every request. Most requests never touch messages (no API call does), yet
    MessageMiddleware makes a storage for each, and the cookie storage derives its signer as it is made: 2.5% of a
    bare Django request (issue 17, py-spy). Reading, adding and storing messages behave exactly as FallbackStorage."""

    def __init__(self, request, *args, **kwargs):
        BaseStorage.__init__(self, request, *args, **kwargs)
        self._storage_arguments = ((request, *args), kwargs)
        self._used_storages = set()

    @cached_property
    def storages(self) -> list[BaseStorage]:
        args, kwargs = self._storage_arguments
        return [storage_class(*args, **kwargs) for storage_class in self.storage_classes]
