"""Schemathesis against the OpenAPI schema the app serves, in-process (WSGI), on whichever database runs.

Every operation, with a token whose user holds every permission and again with one whose user holds none:
no 5xx, and every response conforms to the schema (status code, content type, body, headers). Examples
are bounded and derandomized so CI is stable; `-m fuzz` runs only these.
"""

import logging
import traceback

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from attributes.models import Attribute
from customers.models import Customer
from tests.factories import make_attribute, make_customer
from tests.security.conftest import attribute_rows
from tests.security.urlmap import EXPECTED, ROUTES
from tokens.models import ApiToken

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 25
HOSTS = ["localhost", "testserver"]
# Beyond a 64-bit integer: SQLite's driver overflowed on these (a 500) where PostgreSQL said "no such row".
HUGE_NUMBERS = ["9223372036854775808", "18446744073709551616", "9" * 40]


def _operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def wsgi_app():
    """The production WSGI handler, run inside the test's transaction.

    A real request closes the database connection when it starts and ends; here that would end the test's
    transaction, so (as Django's test client does) the handler keeps it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(wsgi_app):
    """The schema exactly as /crm/schema/ serves it."""
    with override_settings(ALLOWED_HOSTS=HOSTS):
        return schemathesis.openapi.from_wsgi("/crm/schema/?format=json", wsgi_app)


@pytest.fixture
def server_errors(settings):
    """The traceback of any exception the app did not handle (the handler turns it into a 500 page)."""
    settings.ALLOWED_HOSTS = HOSTS
    errors: list[str] = []

    def record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(record)
    logging.disable(logging.ERROR)  # the traceback is reported by the test instead
    yield errors
    logging.disable(logging.NOTSET)
    got_request_exception.disconnect(record)


def _real_ids() -> dict[str, str]:
    """Ids of real objects (re-created when a generated DELETE removed them), so cases also reach 2xx paths."""
    customer = Customer.objects.order_by("pk").first() or make_customer(customer_name="Fuzz customer")
    attribute = Attribute.objects.order_by("pk").first() or make_attribute(customer, "fuzz_name", "fuzz value")
    return {"customer_id": str(attribute.customer_id), "attribute_id": str(attribute.pk)}


def _call(case, wsgi_app, auth: dict[str, str], server_errors: list[str]):
    """Send the case to the app and run the checks; a 500's traceback, if any, is the failure message."""
    response = case.call(app=wsgi_app, headers=auth)
    if server_errors:
        pytest.fail(f"{case.method} {case.formatted_path} raised:\n{server_errors[-1]}")
    case.validate_response(response, checks=CHECKS, headers=auth)
    return response


@pytest.mark.parametrize("who", ["everything", "nobody"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_get_no_5xx_and_conform_to_the_schema(
    method, path, who, api_schema, wsgi_app, world, server_errors, request
):
    user = request.getfixturevalue(f"{who}_user")
    _, raw = ApiToken.issue(user=user, name="fuzz")
    auth = {"Authorization": f"Bearer {raw}"}
    operation = api_schema[path][method]
    names = {parameter.name for parameter in operation.path_parameters}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        real = {name: value for name, value in _real_ids().items() if name in names}
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real),
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
        _call(data.draw(strategy), wsgi_app, auth, server_errors)

    run()


def _huge_cases(api_schema, world):
    """Every id in a path, integer in a query and id in a body, set beyond 64 bits; other ids are real."""
    real = {"customer_id": str(world.customer.pk), "attribute_id": str(world.attribute.pk)}
    bodies = {
        ("PUT", "/crm/attribute/"): lambda n: {"customer_id": n, "attribute_name": "a", "attribute_value": "v"},
        ("PUT", "/crm/attribute/bulk/"): lambda n: [{"customer_id": n, "attribute_name": "a", "attribute_value": "v"}],
        ("PATCH", "/crm/attribute/attribute_id/{attribute_id}"): lambda n: {"customer_id": n, "attribute_value": "v"},
    }
    for method, path in OPERATIONS:
        operation = api_schema[path][method]
        names = [p.name for p in operation.path_parameters]
        integer_query = [p.name for p in operation.query if p.definition.get("schema", {}).get("type") == "integer"]
        for number in HUGE_NUMBERS:
            if names:
                yield operation.Case(path_parameters=dict.fromkeys(names, number))
            for name in integer_query:
                yield operation.Case(path_parameters={n: real[n] for n in names}, query={name: number})
            if (method, path) in bodies:
                body = bodies[method, path](int(number))
                yield operation.Case(
                    path_parameters={n: real[n] for n in names}, body=body, media_type="application/json"
                )


@pytest.mark.parametrize("who", ["everything", "nobody"])
def test_integers_beyond_64_bits_in_paths_filters_and_bodies_are_4xx(
    who, api_schema, wsgi_app, world, server_errors, request
):
    user = request.getfixturevalue(f"{who}_user")
    _, raw = ApiToken.issue(user=user, name="fuzz")
    auth = {"Authorization": f"Bearer {raw}"}
    before = attribute_rows()
    cases = list(_huge_cases(api_schema, world))
    assert len(cases) > 40
    for case in cases:
        response = _call(case, wsgi_app, auth, server_errors)
        where = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
        assert 400 <= response.status_code < 500, f"{where}: {response.status_code} {response.content[:300]!r}"
    assert attribute_rows() == before


def test_every_operation_in_the_served_schema_is_fuzzed(api_schema):
    served = {(operation.ok().method.upper(), operation.ok().path) for operation in api_schema.get_all_operations()}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize("number", HUGE_NUMBERS)
def test_integers_beyond_64_bits_in_page_urls_are_404(number, world, superuser, client):
    """The UI's id converter stops at 19 digits and 2**63 - 1; beyond that a URL names nothing."""
    client.force_login(superuser)
    routes = [route for route in ROUTES if route.params and not route.is_api and route.name != "admin:*"]
    for route in routes:
        template = route.route
        for param in route.params:
            template = template.replace(f"<id:{param}>", number)
        path = "/" + template
        if "<" in path:  # not an id (e.g. the password-reset token)
            continue
        response = client.post(path) if EXPECTED[route.name].keys() == {"POST"} else client.get(path)
        assert response.status_code == 404, f"{path}: {response.status_code}"


@pytest.mark.parametrize("page", ["/customers/", "/attributes/registry/", "/customers/{c}/attributes/history/"])
def test_huge_page_numbers_are_not_server_errors(page, world, superuser, client):
    client.force_login(superuser)
    for number in ("0", "-1", "abc", *HUGE_NUMBERS):
        response = client.get(page.format(c=world.customer.pk), {"page": number})
        assert response.status_code in (200, 404), f"{page}?page={number}: {response.status_code}"
