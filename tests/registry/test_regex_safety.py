"""Registry patterns come from users: matching them must cost time linear in the value, whatever the pattern.

Python's `re` backtracks, so `(a+)+b` against 40 × "a" takes ~2**40 steps: these tests would hang. A SIGALRM
deadline (the `re` engine checks for signals while it backtracks) turns a hang into a failure.
"""

import html
import signal
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError

from attributes.models import Attribute, AttributeDefinition
from attributes.registry import PATTERN_MAX_LENGTH, check_value
from tests.factories import make_customer, make_user

from .conftest import MANAGE, define

pytestmark = pytest.mark.django_db

EVIL = "(a+)+b"
AS = "a" * 40
CREATE_URL = "/attributes/registry/new/"


@contextmanager
def deadline(seconds: float = 5.0):
    def _expired(signum, frame):
        raise TimeoutError(f"took over {seconds} s: the pattern backtracks")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def manager(client):
    client.force_login(make_user("view_customer", MANAGE))


def registry_form(**fields) -> dict:
    return {"name": "order_code", "value_type": "regex", "description": "", "choices": "", "example": "",
            "dependent_systems": "", **fields}  # fmt: skip


def test_api_put_of_a_value_against_a_catastrophic_pattern_answers_at_once(api_client):
    define("order_code", "regex", pattern=EVIL)
    customer = make_customer()

    with deadline():
        response = api_client.put(
            "/crm/attribute/",
            {"customer_id": customer.pk, "attribute_name": "order_code", "attribute_value": AS},
            format="json",
        )

    assert response.status_code == 400
    assert "expected text matching the pattern (a+)+b" in response.json()["attribute_value"][0]
    assert not Attribute.objects.filter(customer=customer).exists()


def test_api_put_of_a_matching_value_against_the_same_pattern_is_stored(api_client):
    define("order_code", "regex", pattern=EVIL)
    customer = make_customer()

    with deadline():
        response = api_client.put(
            "/crm/attribute/",
            {"customer_id": customer.pk, "attribute_name": "order_code", "attribute_value": AS + "b"},
            format="json",
        )

    assert response.status_code == 201, response.json()


def test_registry_form_example_check_against_a_catastrophic_pattern_answers_at_once(client, manager):
    with deadline():
        response = client.post(CREATE_URL, registry_form(pattern=EVIL, example=AS))

    assert response.status_code == 200
    assert "The example does not fit" in html.unescape(response.content.decode())
    assert not AttributeDefinition.objects.exists()


def test_model_clean_checks_the_example_in_linear_time():
    definition = AttributeDefinition(name="order_code", value_type="regex", pattern=EVIL, example="a" * 150)

    with deadline(), pytest.raises(ValidationError) as raised:
        definition.full_clean()

    assert "example" in raised.value.message_dict


def test_check_value_of_a_long_value_against_nested_quantifiers_answers_at_once():
    definition = AttributeDefinition(name="order_code", value_type="regex", pattern=r"(x+x+)+y|(\w*)*\d")

    with deadline(), pytest.raises(ValidationError):
        check_value(definition, "order_code", "x" * 150)


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?=SF)SF-[0-9]+", r"(?<!x)y", r"(?!a)b", r"(?P<n>a)(?P=n)"],
    ids=["backreference", "lookahead", "negative-lookbehind", "negative-lookahead", "named-backreference"],
)
def test_registry_form_refuses_a_pattern_that_needs_backtracking(client, manager, pattern):
    response = client.post(CREATE_URL, registry_form(pattern=pattern))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Not a valid regular expression" in page
    assert "no backreferences, lookahead or lookbehind" in page
    assert not AttributeDefinition.objects.exists()


def test_registry_form_refuses_a_pattern_longer_than_the_limit(client, manager):
    response = client.post(CREATE_URL, registry_form(pattern="a" * (PATTERN_MAX_LENGTH + 1)))

    assert response.status_code == 200
    assert f"at most {PATTERN_MAX_LENGTH} characters" in html.unescape(response.content.decode())
    assert not AttributeDefinition.objects.exists()


def test_model_clean_refuses_a_pattern_longer_than_the_limit_and_one_too_big_to_compile():
    for pattern in ["a" * (PATTERN_MAX_LENGTH + 1), r"((a{100}){100}){100}", "\ud800"]:
        definition = AttributeDefinition(name="order_code", value_type="regex", pattern=pattern)
        with pytest.raises(ValidationError) as raised:
            definition.clean()
        assert raised.value.message_dict["pattern"][0].startswith("Not a valid regular expression:"), pattern


def test_a_stored_pattern_the_engine_refuses_matches_nothing_instead_of_failing():
    # Saved before patterns were checked against RE2 (no full_clean on this path).
    definition = AttributeDefinition.objects.create(name="legacy_code", value_type="regex", pattern=r"(a)\1")

    with pytest.raises(ValidationError) as raised:
        check_value(definition, "legacy_code", "aa")

    assert raised.value.code == "registry_type"


def test_an_ordinary_pattern_still_works_through_the_form(client, manager):
    response = client.post(CREATE_URL, registry_form(pattern=r"SF-[0-9]{5}", example="SF-12345"))

    assert response.status_code == 302
    assert AttributeDefinition.objects.get(name="order_code").pattern == r"SF-[0-9]{5}"
