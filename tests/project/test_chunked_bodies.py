"""`Transfer-Encoding: chunked` bodies reach the views: through the WSGI application gunicorn serves.

Gunicorn decodes chunked input and says so with `wsgi.input_terminated`, but sends no CONTENT_LENGTH, so Django
read the body as empty (a 400 "field required"). The same request under a real gunicorn is in
tests/reliability/test_chunked_bodies.py.
"""

import io
import json
import wsgiref.util

import pytest
from django.core import signals
from django.db import close_old_connections

from attributes.models import Attribute
from crm_project import wsgi
from tests.factories import bearer_client, make_customer, make_user


def call_wsgi(method: str, path: str, body: bytes, *, token: str, chunked: bool = True) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
    }
    if chunked:
        environ |= {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    wsgiref.util.setup_testing_defaults(environ)
    started = []
    # As Django's test client does: the request signals would close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        answer = b"".join(wsgi.application(environ, lambda status, headers, exc_info=None: started.append(status)))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return started[0], answer


@pytest.fixture
def writer_token(db):
    return bearer_client(make_user("view_customer_attribute", "create_customer_attribute")).raw_token


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_put_with_a_chunked_body_writes_like_one_with_a_length(chunked, writer_token, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    customer = make_customer()
    item = {"customer_id": customer.pk, "attribute_name": "support_tier", "attribute_value": "premium"}

    status, body = call_wsgi("PUT", "/crm/attribute/", json.dumps(item).encode(), token=writer_token, chunked=chunked)

    assert status.startswith("201"), body
    assert Attribute.objects.get(customer=customer, attribute_name="support_tier").attribute_value == "premium"


def test_an_endless_chunked_body_is_refused_with_413(writer_token, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["testserver"]
    monkeypatch.setattr(wsgi, "CHUNKED_BODY_MAX_BYTES", 1000)
    before = Attribute.objects.count()

    status, body = call_wsgi("PUT", "/crm/attribute/bulk/", b"[" + b" " * 2000 + b"]", token=writer_token)

    assert status.startswith("413")
    assert "larger" in json.loads(body)["detail"]
    assert Attribute.objects.count() == before
