"""Bodies a client should never send: each is refused with a 4xx JSON answer, never a 500, and nothing is written.

Oversized (beyond DATA_UPLOAD_MAX_MEMORY_SIZE), nested 100000 levels deep, the wrong content type, invalid
UTF-8, JSON that is not an object (a bare string, number, null), repeated keys, NUL or lone surrogates. Every
write endpoint, bulk included.
"""

import json

import pytest
from django.conf import settings

from tests.factories import attribute_rows, customer_rows

WRITES = [
    ("put", "/crm/attribute/"),
    ("patch", "/crm/attribute/attribute_id/{attribute_id}"),
    ("put", "/crm/attribute/bulk/"),
    ("put", "/crm/customer/"),
    ("patch", "/crm/customer/customer_id/{customer_id}"),
]
DEPTH = 100_000


def _oversized() -> bytes:
    value = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 512 * 1024)  # about 3 MB
    return json.dumps({"customer_id": 1, "attribute_name": "note", "attribute_value": value}).encode()


BODIES = {
    "oversized-3MB": (_oversized, "application/json"),
    "oversized-list": (
        lambda: json.dumps(
            [{"customer_id": 1, "attribute_name": "note", "attribute_value": "v" * 100}] * 30000
        ).encode(),
        "application/json",
    ),
    "nested-arrays": (lambda: b"[" * DEPTH + b"]" * DEPTH, "application/json"),
    "nested-objects": (lambda: b'{"a":' * DEPTH + b"1" + b"}" * DEPTH, "application/json"),
    "unclosed-nesting": (lambda: b"[" * DEPTH, "application/json"),
    "text-plain": (lambda: b'{"attribute_value": "x"}', "text/plain"),
    "form-encoded": (
        lambda: b"customer_id=1&attribute_name=note&attribute_value=x",
        "application/x-www-form-urlencoded",
    ),
    "multipart": (
        lambda: b'--b\r\nContent-Disposition: form-data; name="attribute_value"\r\n\r\nx\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
    ),
    "xml": (lambda: b"<attribute><attribute_value>x</attribute_value></attribute>", "application/xml"),
    "invalid-utf8": (
        lambda: b'{"customer_id": 1, "attribute_name": "note", "attribute_value": "\xff\xfe\xc3"}',
        "application/json",
    ),
    "bare-string": (lambda: b'"hello"', "application/json"),
    "bare-number": (lambda: b"42", "application/json"),
    "bare-null": (lambda: b"null", "application/json"),
    "bare-true": (lambda: b"true", "application/json"),
    "empty-list": (lambda: b"[]", "application/json"),
    "empty-object": (lambda: b"{}", "application/json"),
    "empty-body": (lambda: b"", "application/json"),
    "nan": (lambda: b'{"customer_id": NaN, "attribute_name": "note", "attribute_value": "x"}', "application/json"),
    "truncated": (lambda: b'{"customer_id": 1, "attribute_name": "no', "application/json"),
    "trailing-garbage": (lambda: b'{"customer_id": 1}{"customer_id": 2}', "application/json"),
    # Issue 11: a repeated key used to be last-wins; a lone surrogate key or string broke rendering the error.
    "duplicate-keys": (lambda: b'{"customer_id": 1, "customer_id": 2, "notes": "x", "notes": "y"}', "application/json"),
    "duplicate-keys-in-list": (lambda: b'[{"customer_id": 1, "customer_id": 2}]', "application/json"),
    "surrogate-key": (lambda: b'{"\\ud800": "x", "notes": "x"}', "application/json"),
    "surrogate-string": (lambda: b'{"attribute_value": "\\udfff", "notes": "\\udfff"}', "application/json"),
    "nul-key": (lambda: b'{"\\u0000": "x", "notes": "x"}', "application/json"),
    "nul-in-list": (
        lambda: b'[{"customer_id": 1, "attribute_name": "a\\u0000", "attribute_value": "x"}]',
        "application/json",
    ),
}


@pytest.mark.parametrize("kind", list(BODIES))
@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m.upper()} {p}" for m, p in WRITES])
def test_malformed_body_is_refused_with_a_json_4xx_and_writes_nothing(api, world, method, path, kind):
    make_body, content_type = BODIES[kind]
    url = path.format(attribute_id=world.attribute.pk, customer_id=world.customer.pk)
    before = (attribute_rows(), customer_rows())

    response = getattr(api, method)(url, make_body(), content_type=content_type)

    assert 400 <= response.status_code < 500, f"{method.upper()} {url} [{kind}]: {response.status_code}"
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body, "the answer says what was wrong"
    assert (attribute_rows(), customer_rows()) == before


def test_a_valid_write_still_works_after_the_malformed_ones(api, world):
    """The refusals above are about the bodies, not a broken endpoint."""
    response = api.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "note", "attribute_value": "ok"},
        format="json",
    )

    assert response.status_code == 201


def test_a_query_string_with_too_many_parameters_is_a_json_400(api, world):
    query = "&".join(f"attribute_name=n{i}" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = api.get(f"/crm/attribute/?{query}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
