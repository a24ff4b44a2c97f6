"""The registry on the Attributes tab: suggestions and expected formats in the modal, descriptions in the table."""

import html
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_attribute

from .conftest import HTMX, HTMX_MODAL, define

pytestmark = pytest.mark.django_db


@pytest.fixture
def tier():
    return define(
        "support_tier",
        "choice",
        choices="gold\nsilver\nbronze",
        example="gold",
        description="Support level sold with the contract.",
        dependent_systems="billing, RADIUS",
    )


class _Suggestions(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside, self.options = False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "datalist" and attrs.get("id") == "attribute-name-suggestions":
            self.inside = True
        elif tag == "option" and self.inside:
            self.options[attrs.pop("value")] = attrs

    def handle_endtag(self, tag):
        if tag == "datalist":
            self.inside = False


def suggestions_of(page: str) -> dict[str, dict]:
    """The name input's <datalist>: each suggested name with the attributes of its option."""
    parser = _Suggestions()
    parser.feed(page)
    return parser.options


def count_queries(client, url: str, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **kwargs).status_code == 200
    return len(queries)


# --- the Add modal ------------------------------------------------------------------------------------------


def test_add_modal_suggests_defined_names_with_description_and_expected_format(client, editor, customer, tier):
    define("billing_day", "integer")

    page = client.get(reverse("attributes:create", args=[customer.pk]), headers=HTMX_MODAL).content.decode()

    assert 'list="attribute-name-suggestions"' in page
    assert suggestions_of(page) == {
        "billing_day": {
            # Without a description the suggestion says what the name takes.
            "label": "a whole number, e.g. 100",
            "data-description": "",
            "data-format": "a whole number, e.g. 100",
            "data-example": "",
        },
        "support_tier": {
            "label": "Support level sold with the contract.",
            "data-description": "Support level sold with the contract.",
            "data-format": "one of: gold, silver, bronze",
            "data-example": "gold",
        },
    }
    # No <script> of any kind: htmx drops them from swapped fragments, and the CSP forbids inline code.
    assert "<script" not in page
    assert re.search(r'<div class="alert[^"]*name-hint-defined" hidden>', page)  # nothing typed yet
    assert 'aria-describedby="id_attribute_name_helptext name-hint"' in page
    assert '<div class="form-text" id="id_attribute_name_helptext">' in page


def test_add_modal_reads_the_registry_in_one_query_however_many_definitions(client, editor, customer):
    url = reverse("attributes:create", args=[customer.pk])
    define("name_0")
    few = count_queries(client, url, headers=HTMX_MODAL)
    for i in range(1, 40):
        define(f"name_{i}")

    assert count_queries(client, url, headers=HTMX_MODAL) == few


def test_invalid_add_shows_the_typed_names_format_without_javascript(client, editor, customer, tier):
    response = client.post(
        reverse("attributes:create", args=[customer.pk]),
        {"attribute_name": "support_tier", "attribute_value": "platinum"},
        headers=HTMX_MODAL,
    )

    page = html.unescape(response.content.decode())
    hint = re.search(r'<div class="alert[^"]*name-hint-defined">(.*?)</div>\s*<div class="form-text', page, re.S)
    assert hint, "the hint is shown for the defined name"
    assert "Support level sold with the contract." in hint.group(1)
    assert "one of: gold, silver, bronze" in hint.group(1)


def test_plain_add_page_has_the_same_suggestions(client, editor, customer, tier):
    page = client.get(reverse("attributes:create", args=[customer.pk])).content.decode()

    assert "<html" in page
    assert '<option value="support_tier"' in page
    assert "support_tier" in suggestions_of(page)


# --- the Edit modal -----------------------------------------------------------------------------------------


def test_edit_modal_rename_note_names_the_dependent_systems(client, editor, customer, tier):
    attribute = make_attribute(customer, "support_tier", "gold")

    response = client.get(reverse("attributes:update", args=[customer.pk, attribute.pk]), headers=HTMX_MODAL)

    page = html.unescape(response.content.decode())
    note = re.search(r'<div class="alert[^"]*rename-note".*?</div>', page, re.S).group(0)
    assert "Used by: billing, RADIUS." in note
    assert "one of: gold, silver, bronze" in page  # the current name's hint, shown at once


def test_edit_modal_of_a_name_without_dependants_has_the_plain_rename_note(client, editor, customer):
    attribute = make_attribute(customer, "free_note", "x")

    page = client.get(
        reverse("attributes:update", args=[customer.pk, attribute.pk]), headers=HTMX_MODAL
    ).content.decode()

    assert "rename-note" in page
    assert "Used by" not in page


# --- the table ----------------------------------------------------------------------------------------------


def test_table_gives_defined_names_their_description_on_hover_and_focus(client, editor, customer, tier):
    define("billing_day", "integer", protected=True)
    make_attribute(customer, "support_tier", "gold")
    make_attribute(customer, "billing_day", "5")
    make_attribute(customer, "free_note", "x")

    page = client.get(reverse("attributes:tab", args=[customer.pk])).content.decode()

    assert (
        '<span class="attr-defined" tabindex="0" data-bs-toggle="tooltip" title="Support level sold with the '
        'contract. — Expected: one of: gold, silver, bronze">support_tier</span>'
    ) in page
    assert (
        '<span class="attr-defined" tabindex="0" data-bs-toggle="tooltip" title="Expected: a whole number, '
        'e.g. 100 (protected)">billing_day</span>'
    ) in page
    assert '<th scope="row" class="font-monospace fw-normal">free_note</th>' in page


def test_table_after_a_write_keeps_the_descriptions(client, editor, customer, tier):
    response = client.post(
        reverse("attributes:create", args=[customer.pk]),
        {"attribute_name": "support_tier", "attribute_value": "silver"},
        headers=HTMX_MODAL,
    )

    assert 'data-bs-toggle="tooltip"' in response.content.decode()


@pytest.mark.parametrize("headers", [{}, {**HTMX, "HX-Target": "tab-area"}, {**HTMX, "HX-Target": "attributes-table"}])
def test_tab_costs_the_same_queries_for_2_or_50_defined_attributes(client, editor, customer, headers):
    url = reverse("attributes:tab", args=[customer.pk])
    for i in range(2):
        define(f"name_{i:02}", "integer", description=f"Number {i}")
        make_attribute(customer, f"name_{i:02}", str(i))
    few = count_queries(client, url, headers=headers)
    for i in range(2, 50):
        define(f"name_{i:02}", "integer", description=f"Number {i}")
        make_attribute(customer, f"name_{i:02}", str(i))

    assert count_queries(client, url, headers=headers) == few
    assert client.get(url, headers=headers).content.decode().count('data-bs-toggle="tooltip"') == 50
