"""The message storage is made only when a request uses messages, and then works as Django's FallbackStorage."""

from django.contrib import messages
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from crm_project.messages_storage import LazyFallbackStorage


def request_with_session(cookies: dict | None = None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = SessionStore()
    return request


def test_a_request_that_uses_no_messages_makes_no_storage():
    request = request_with_session()
    storage = default_storage(request)
    assert isinstance(storage, LazyFallbackStorage)
    response = HttpResponse()
    storage.update(response)  # what MessageMiddleware does at the end of every request
    assert "storages" not in storage.__dict__
    assert not response.cookies


def test_messages_added_in_one_request_are_read_in_the_next(db):
    first = request_with_session()
    first._messages = default_storage(first)
    messages.success(first, "Saved.")
    response = HttpResponse()
    first._messages.update(response)
    cookie = response.cookies["messages"].value  # the cookie storage first, as FallbackStorage

    second = request_with_session({"messages": cookie})
    second._messages = default_storage(second)
    assert [str(m) for m in messages.get_messages(second)] == ["Saved."]
