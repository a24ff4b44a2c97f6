"""Each registry type's valid and invalid values, through the Add form and through PUT /crm/attribute/.

The error must quote the expected format, so a user or an integration learns what to send instead.
"""

import html

import pytest
from django.urls import reverse

from attributes.models import Attribute

from .conftest import HTMX_MODAL, define

pytestmark = pytest.mark.django_db

# type, extra definition fields, valid values, invalid values
CASES = [
    ("text", {"example": "any note"}, ["anything at all", "Ünïcode ✓"], []),
    ("boolean", {}, ["true", "false"], ["True", "yes", "1"]),
    ("integer", {}, ["100", "-5", "0"], ["1.5", "ten", "1e3"]),
    ("decimal", {}, ["0.23", "-1", "42"], ["1,5", ".5", "0.2.3"]),
    ("date", {}, ["2025-01-04", "2024-02-29"], ["2025-13-01", "04/01/2025", "2025-02-30", "2025-1-4"]),
    ("datetime", {}, ["2025-01-04 10:30:00"], ["2025-01-04T10:30:00", "2025-01-04 25:00:00", "2025-01-04"]),
    ("email", {}, ["john.smith@company.com"], ["john@", "not an email"]),
    ("url", {}, ["https://example.com/path", "http://radius.example.net:8080/"], ["example.com", "ftp//x"]),
    ("choice", {"choices": "gold\nsilver\nbronze"}, ["gold", "bronze"], ["platinum", "Gold", "gold,silver"]),
    ("regex", {"pattern": r"SF-[0-9]{5}", "example": "SF-12345"}, ["SF-12345"], ["SF-1234", "xSF-12345", "sf-12345"]),
]
VALID = [(kind, extra, value) for kind, extra, values, _ in CASES for value in values]
INVALID = [(kind, extra, value) for kind, extra, _, values in CASES for value in values]


def case_id(case) -> str:
    return f"{case[0]}:{case[2]}"


def add(client, customer, name: str, value: str):
    url = reverse("attributes:create", args=[customer.pk])
    return client.post(url, {"attribute_name": name, "attribute_value": value}, headers=HTMX_MODAL)


@pytest.mark.parametrize(("kind", "extra", "value"), VALID, ids=map(case_id, VALID))
def test_add_form_accepts_a_value_that_fits_the_definition(client, editor, customer, kind, extra, value):
    define("field_under_test", kind, **extra)

    response = add(client, customer, "field_under_test", value)

    assert response.status_code == 200
    assert response.headers.get("HX-Trigger") == '{"attributesChanged": null}'
    assert Attribute.objects.get(customer=customer, attribute_name="field_under_test").attribute_value == value


@pytest.mark.parametrize(("kind", "extra", "value"), INVALID, ids=map(case_id, INVALID))
def test_add_form_refuses_a_value_that_does_not_fit_and_quotes_the_expected_format(
    client, editor, customer, kind, extra, value
):
    definition = define("field_under_test", kind, **extra)

    response = add(client, customer, "field_under_test", value)

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers  # the modal stays open with the error
    page = html.unescape(response.content.decode())
    assert f"expected {definition.expected_format()}." in page
    assert f"“{value}” is not a valid field_under_test" in page
    assert not Attribute.objects.filter(customer=customer).exists()


@pytest.mark.parametrize(("kind", "extra", "value"), VALID, ids=map(case_id, VALID))
def test_api_put_accepts_a_value_that_fits_the_definition(api_client, customer, kind, extra, value):
    define("field_under_test", kind, **extra)

    response = api_client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "field_under_test", "attribute_value": value},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["attribute_value"] == value


@pytest.mark.parametrize(("kind", "extra", "value"), INVALID, ids=map(case_id, INVALID))
def test_api_put_refuses_a_value_that_does_not_fit_and_quotes_the_expected_format(
    api_client, customer, kind, extra, value
):
    definition = define("field_under_test", kind, **extra)

    response = api_client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "field_under_test", "attribute_value": value},
        format="json",
    )

    assert response.status_code == 400
    [message] = response.json()["attribute_value"]
    assert message == f"“{value}” is not a valid field_under_test: expected {definition.expected_format()}."
    assert not Attribute.objects.filter(customer=customer).exists()


def test_api_update_of_an_existing_value_is_checked_too(api_client, customer):
    define("billing_day", "integer")
    api_client.put(
        "/crm/attribute/",
        {"customer_id": customer.pk, "attribute_name": "billing_day", "attribute_value": "5"},
        format="json",
    )
    attribute = Attribute.objects.get(customer=customer, attribute_name="billing_day")

    response = api_client.patch(
        f"/crm/attribute/attribute_id/{attribute.pk}", {"attribute_value": "fifth"}, format="json"
    )

    assert response.status_code == 400
    assert "expected a whole number, e.g. 100" in response.json()["attribute_value"][0]
    attribute.refresh_from_db()
    assert attribute.attribute_value == "5"


def test_names_without_a_definition_stay_free_form(client, editor, customer):
    define("billing_day", "integer")

    response = add(client, customer, "free_note", "anything, even 1.5 or yes")

    assert response.headers.get("HX-Trigger") == '{"attributesChanged": null}'
    assert Attribute.objects.filter(customer=customer, attribute_name="free_note").exists()
